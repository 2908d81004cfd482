"""Administration pages for the supply catalog."""

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from outreach.extensions import db
from outreach.idempotency import commit_once, earlier_submission
from outreach.security import Permission, permission_required
from outreach.supplies import services
from outreach.supplies.forms import SupplyItemEditForm, SupplyItemForm
from outreach.supplies.models import SupplyItem
from outreach.supplies.queries import all_items_by_category

blueprint = Blueprint("supplies", __name__, url_prefix="/admin/supplies")


@blueprint.route("/")
@permission_required(Permission.MANAGE_CATALOG)
def index():
    """List the catalog by category."""
    return render_template("supplies/index.html", groups=all_items_by_category())


@blueprint.route("/new", methods=["GET", "POST"])
@permission_required(Permission.MANAGE_CATALOG)
def create():
    """Add an item to the catalog; a concurrent double submit ends on the first one's item."""
    form = SupplyItemForm()
    if form.validate_on_submit():
        key = form.idempotency_key.data
        if earlier_submission(key, "supply_item"):
            return already_added()
        try:
            item = services.supply_item_create(**form.item_fields())
        except services.CatalogError as error:
            form[error.field].errors.append(error.message)
        except IntegrityError:
            db.session.rollback()
            if earlier_submission(key, "supply_item"):
                return already_added()
            form.name.errors.append(services.NAME_TAKEN)
        else:
            if commit_once(key, "supply_item", item.id, current_user.id):
                return already_added()
            flash(f"{item.name} is added to the catalog.", "success")
            return redirect(url_for("supplies.index"))
    return render_template("supplies/form.html", form=form), 422 if form.errors else 200


def already_added():
    """Answer a repeated create with the catalog, where the first submit's item is."""
    flash("This item was already added.", "info")
    return redirect(url_for("supplies.index"))


@blueprint.route("/<int:item_id>", methods=["GET", "POST"])
@permission_required(Permission.MANAGE_CATALOG)
def edit(item_id: int):
    """Change an item or take it out of use."""
    item = db.get_or_404(SupplyItem, item_id)
    form = SupplyItemEditForm(obj=item)
    if form.validate_on_submit():
        try:
            services.supply_item_update(item=item, **form.item_fields(), active=form.active.data)
        except services.CatalogError as error:
            form[error.field].errors.append(error.message)
        else:
            db.session.commit()
            flash(f"{item.name} is saved.", "success")
            return redirect(url_for("supplies.index"))
    return render_template("supplies/form.html", form=form, item=item), 422 if form.errors else 200
