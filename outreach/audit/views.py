"""The audit log page for administrators."""

import math

from flask import Blueprint, current_app, render_template, request

from outreach.audit.forms import AuditFilterForm
from outreach.audit.queries import AuditFilters, audit_page
from outreach.security import Permission, permission_required

blueprint = Blueprint("audit", __name__, url_prefix="/admin/audit")
#: The query parameters the pager carries from page to page.
FILTER_FIELDS = ("action", "actor", "entity_type", "entity_id", "date_from", "date_to")


@blueprint.route("")
@permission_required(Permission.VIEW_AUDIT)
def index():
    """Browse audit events with filters and paging."""
    form = AuditFilterForm(request.args)
    rows, total, page, pages = [], 0, 1, 1
    if form.validate():
        filters = AuditFilters(
            **{name: form[name].data or "" for name in ("action", "actor", "entity_type")},
            entity_id=form.entity_id.data or "",
            date_from=form.date_from.data,
            date_to=form.date_to.data,
        )
        per_page = current_app.config["AUDIT_PAGE_SIZE"]
        page = form.page.data or 1
        rows, total = audit_page(filters, page, per_page)
        pages = max(1, math.ceil(total / per_page))
    status = 400 if form.errors else 200
    args = {name: request.args[name] for name in FILTER_FIELDS if request.args.get(name)}
    return render_template(
        "audit/index.html", form=form, rows=rows, total=total, page=page, pages=pages, args=args
    ), status
