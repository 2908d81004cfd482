"""Two administrators changing each other at once on PostgreSQL: one always stays."""

import time

import pytest

from outreach.extensions import db
from outreach.users import services
from outreach.users.models import Role, User
from tests import factories
from tests.concurrency import run_together

pytestmark = pytest.mark.slow
#: How long each change waits after counting the administrators, so the two collide.
DAWDLE = 0.4


@pytest.mark.parametrize("change", ["demote", "deactivate"])
def test_two_admins_removing_each_other_at_once_leave_one(app, postgresql, monkeypatch, change):
    first, second = factories.make_user(role="admin"), factories.make_user(role="admin")
    ids = first.id, second.id
    counted = services.active_admin_count

    def dawdling_count() -> int:
        count = counted()
        time.sleep(DAWDLE)
        return count

    monkeypatch.setattr(services, "active_admin_count", dawdling_count)

    def remove(user_id: int):
        def work() -> None:
            user = db.session.get(User, user_id)
            if change == "demote":
                services.user_update(user=user, role=Role.SUPERVISOR, site_ids=[])
            else:
                services.user_deactivate(user=user)

        return work

    runs = run_together(app, one=remove(ids[1]), other=remove(ids[0]))

    errors = [run.error for run in runs.values() if run.error is not None]
    assert len(errors) == 1 and isinstance(errors[0], services.AdminError)
    admins = [db.session.get(User, user_id) for user_id in ids]
    assert sum(user.role == Role.ADMIN and user.active for user in admins) == 1
