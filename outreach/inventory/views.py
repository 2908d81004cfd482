"""Stock screens for supervisors: on hand, receive, transfer, count, write off, history."""

import math
from collections.abc import Callable

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from outreach.extensions import db
from outreach.idempotency import commit_once, earlier_submission
from outreach.inventory import checks, history, menus, queries, services
from outreach.inventory.forms import (
    CountForm,
    ItemSettingsForm,
    MovementFilterForm,
    ReceiveForm,
    StockFilterForm,
    StockForm,
    TransferForm,
    WriteOffForm,
    optional_int,
)
from outreach.inventory.models import MovementKind, StockMovement
from outreach.security import Permission, has_permission, permission_required
from outreach.supplies.models import SupplyItem
from outreach.users.models import Site

blueprint = Blueprint("inventory", __name__, url_prefix="/stock")
ENTITY = "stock_movement"
PAGE_SIZE = 50
#: The query parameters the history pager carries from page to page.
FILTER_FIELDS = ("site_id", "item_id", "kind", "lot_number", "date_from", "date_to")
SAME_MOMENT = "Someone recorded this lot at the same moment; save again."


@blueprint.app_template_global("stock_home_warnings")
def home_warnings() -> queries.StockWarnings | None:
    """Return the stock warnings for the home page, for users who keep stock only."""
    if not has_permission(current_user, Permission.MANAGE_STOCK):
        return None
    return queries.stock_warnings()


@blueprint.route("")
@permission_required(Permission.MANAGE_STOCK)
def index():
    """Show stock on hand by site and item, with lots and expiry, and the warnings."""
    form = StockFilterForm(request.args)
    form.site_id.choices = [("", "All sites"), *menus.site_choices(held=True)]
    rows = queries.buckets(form.site_id.data)
    return render_template(
        "inventory/index.html",
        form=form,
        stock=queries.stock_on_hand(rows=rows),
        warnings=queries.stock_warnings(form.site_id.data, rows=rows),
        today=queries.local_today(),
    )


def new_form(form_class: type[StockForm]) -> StockForm:
    """Return a stock form with its menus, filled on a GET from the link that opened it.

    Forms taking stock out or counting it also offer the inactive sites and retired items the
    ledger holds; stock only goes into active sites.
    """
    form = form_class()
    held = not form.incoming
    form.fill_choices(
        sites=menus.site_choices(held=held),
        items=menus.item_choices(held=held),
        destinations=menus.site_choices() if "to_site_id" in form else [],
    )
    if request.method == "GET":
        for name in ("site_id", "from_site_id", "to_site_id", "item_id"):
            if name in form and request.args.get(name):
                form[name].data = optional_int(request.args[name])
        form.lot_number.data = request.args.get("lot_number", "")[:40]
    return form


def save_change(form: StockForm, change: Callable[[], StockMovement | None], verb: str):
    """Carry out a stock change once per form key; put a refusal at its field, write nothing.

    Returns a redirect when the change was made (or had been), else None.
    """
    key = form.idempotency_key.data
    if earlier_submission(key, ENTITY):
        return already_saved()
    try:
        movement = change()
    except services.StockError as error:
        db.session.rollback()
        for field, message in error.errors.items():
            form[field].errors.append(message)
        if isinstance(error, services.CountChanged):
            form.seen_version.data = str(error.version)
        return None
    except IntegrityError:
        db.session.rollback()
        if earlier_submission(key, ENTITY):
            return already_saved()
        form.lot_number.errors.append(SAME_MOMENT)
        return None
    if movement is None:
        db.session.rollback()
        flash("The count matches the ledger; nothing to correct.", "info")
        return redirect(url_for("inventory.index"))
    if commit_once(key, ENTITY, movement.id, current_user.id):
        return already_saved()
    flash(f"{verb}: {describe(movement)}.", "success")
    return redirect(url_for("inventory.index"))


def describe(movement: StockMovement) -> str:
    """Say briefly what a movement moved, and where."""
    item = db.session.get(SupplyItem, movement.item_id)
    site = db.session.get(Site, movement.site_id)
    amount = abs(movement.quantity)
    if movement.kind == MovementKind.ADJUSTED:
        amount = f"{movement.quantity:+d}".replace("-", "−")
    return f"{amount} {item.unit} of {item.name} at {site.name}"


def already_saved():
    """Answer a repeated submit with the history, where the first one's movement is."""
    flash("This was already saved.", "info")
    return redirect(url_for("inventory.movements"))


def show(template: str, form: StockForm, **context):
    """Render a stock form: 422 when it has errors."""
    return render_template(template, form=form, **context), 422 if form.errors else 200


@blueprint.route("/receive", methods=["GET", "POST"])
@permission_required(Permission.MANAGE_STOCK)
def receive():
    """Record stock that arrived at a site."""
    form = new_form(ReceiveForm)
    if form.validate_on_submit():
        done = save_change(
            form,
            lambda: services.stock_receive(
                site_id=form.site_id.data,
                item_id=form.item_id.data,
                quantity=form.quantity.data,
                lot_number=form.lot_number.data,
                expires_on=form.expires_on.data,
                received_on=form.received_on.data,
                by=current_user,
            ),
            "Received",
        )
        if done:
            return done
    return show("inventory/receive.html", form)


@blueprint.route("/transfer", methods=["GET", "POST"])
@permission_required(Permission.MANAGE_STOCK)
def transfer():
    """Move stock from one site to another."""
    form = new_form(TransferForm)
    if form.validate_on_submit():
        done = save_change(
            form,
            lambda: (
                services.stock_transfer(
                    from_site_id=form.from_site_id.data,
                    to_site_id=form.to_site_id.data,
                    item_id=form.item_id.data,
                    quantity=form.quantity.data,
                    lot_number=form.lot_number.data,
                    by=current_user,
                ).out
            ),
            "Moved out",
        )
        if done:
            return done
    return show("inventory/transfer.html", form)


@blueprint.route("/count", methods=["GET", "POST"])
@permission_required(Permission.MANAGE_STOCK)
def count():
    """Correct the ledger to a physical count, with a reason."""
    form = new_form(CountForm)
    if request.method == "GET":
        state = ledger(form)
        form.seen_version.data = str(state[1]) if state else ""
    elif form.validate_on_submit():
        seen = optional_int(form.seen_version.data)
        done = save_change(
            form,
            lambda: services.stock_count(
                site_id=form.site_id.data,
                item_id=form.item_id.data,
                lot_number=form.lot_number.data,
                counted=form.counted.data,
                reason=form.reason.data,
                seen_version=seen,
                by=current_user,
            ),
            "Ledger corrected by the count",
        )
        if done:
            return done
    return show("inventory/count.html", form, ledger=ledger(form))


def ledger(form: CountForm) -> tuple[int, int] | None:
    """Return (on hand, movements) of the site, item and lot the count form names, if known."""
    site_id, item_id = form.site_id.data, form.item_id.data
    site = db.session.get(Site, site_id) if site_id and item_id else None
    item = db.session.get(SupplyItem, item_id) if site else None
    if item is None:
        return None
    try:
        lot = checks.existing_lot(item, form.lot_number.data, site)
    except services.StockError:
        return None
    lot_id = lot.id if lot else None
    return (
        queries.bucket_on_hand(site.id, item.id, lot_id),
        queries.bucket_version(site.id, item.id, lot_id),
    )


@blueprint.route("/write-off", methods=["GET", "POST"])
@permission_required(Permission.MANAGE_STOCK)
def write_off():
    """Take expired or disposed stock off the shelf."""
    form = new_form(WriteOffForm)
    if form.validate_on_submit():
        done = save_change(
            form,
            lambda: services.stock_write_off(
                site_id=form.site_id.data,
                item_id=form.item_id.data,
                lot_number=form.lot_number.data,
                quantity=form.quantity.data,
                kind=form.kind.data,
                reason=form.reason.data or None,
                by=current_user,
            ),
            "Taken off the shelf",
        )
        if done:
            return done
    return show("inventory/write_off.html", form)


@blueprint.route("/movements")
@permission_required(Permission.MANAGE_STOCK)
def movements():
    """Browse the ledger with filters and paging, newest first."""
    form = MovementFilterForm(request.args)
    form.fill_choices(menus.site_choices(held=True), menus.item_choices(held=True))
    rows, total, page, pages = [], 0, 1, 1
    if form.validate():
        filters = history.MovementFilters(
            site_id=form.site_id.data,
            item_id=form.item_id.data,
            kind=form.kind.data or "",
            lot_number=checks.normal_lot_number(form.lot_number.data),
            date_from=form.date_from.data,
            date_to=form.date_to.data,
        )
        page = form.page.data or 1
        rows, total = history.movement_page(filters, page, PAGE_SIZE)
        pages = max(1, math.ceil(total / PAGE_SIZE))
    args = {name: request.args[name] for name in FILTER_FIELDS if request.args.get(name)}
    return render_template(
        "inventory/movements.html",
        form=form,
        rows=rows,
        total=total,
        page=page,
        pages=pages,
        args=args,
    ), 400 if form.errors else 200


@blueprint.route("/items")
@permission_required(Permission.MANAGE_STOCK)
def items():
    """List how each item's stock is kept and its warning level."""
    catalog = db.session.scalars(select(SupplyItem).order_by(*queries.ITEM_ORDER))
    return render_template("inventory/items.html", items=list(catalog))


@blueprint.route("/items/<int:item_id>", methods=["GET", "POST"])
@permission_required(Permission.MANAGE_STOCK)
def item_settings(item_id: int):
    """Set whether an item is kept by lot and its low-stock warning level."""
    item = db.get_or_404(SupplyItem, item_id)
    form = ItemSettingsForm(obj=item)
    if form.validate_on_submit():
        try:
            services.stock_settings_update(
                item=item,
                lot_tracked=form.lot_tracked.data,
                low_stock_threshold=form.low_stock_threshold.data,
            )
        except services.StockError as error:
            db.session.rollback()
            form[error.field].errors.append(error.message)
        else:
            db.session.commit()
            flash(f"{item.name}: stock settings saved.", "success")
            return redirect(url_for("inventory.items"))
    return render_template(
        "inventory/item_settings.html", form=form, item=item
    ), 422 if form.errors else 200
