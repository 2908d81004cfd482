"""Two-factor login: enrolment, the second login step, replay, recovery codes, resets."""

import base64
import re
from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import select

from outreach.audit.models import AuditEvent
from outreach.auth import mfa
from outreach.auth.models import RecoveryCode, TotpFactor, UserSession
from outreach.dbtypes import utcnow
from outreach.extensions import db
from outreach.users.models import User
from tests import factories
from tests.conftest import make_test_app
from tests.factories import TEST_PASSWORD
from tests.security.helpers import code, enrol, log_in, page_text


@pytest.fixture
def required(app):
    """Two-factor login required for supervisors and administrators, as in production."""
    app.config["MFA_REQUIRED_ROLES"] = "supervisor,admin"
    return app


def actions() -> list[str]:
    """Return the audit actions in order."""
    return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def live_sessions(user) -> int:
    """Count a user's live server-side sessions."""
    query = select(UserSession).where(UserSession.user_id == user.id)
    return len([record for record in db.session.scalars(query) if record.ended_at is None])


def enrol_through_the_pages(client) -> tuple[str, list[str]]:
    """Set up two-factor login as a logged-in user would; return the secret and codes."""
    started = client.post("/auth/two-factor/setup", data={"setup-password": TEST_PASSWORD})
    assert started.status_code == 302
    assert started.headers["Location"] == "/auth/two-factor/confirm"
    page = page_text(client.get("/auth/two-factor/confirm"))
    key = re.search(r'aria-label="Key to type in the app"><code>([A-Z2-7 ]+)</code>', page)
    secret = key.group(1).replace(" ", "")
    done = client.post("/auth/two-factor/confirm", data={"code": code(secret)})
    assert done.status_code == 200
    codes = re.findall(r"<li><code>([a-z0-9-]+)</code></li>", page_text(done))
    return secret, codes


def test_a_supervisor_is_sent_to_set_up_two_factor_right_after_login(required, client):
    supervisor = factories.make_user("supervisor", username="sam")
    db.session.commit()
    assert log_in(client, "sam").headers["Location"] == "/"
    for path in ("/", "/encounters", "/auth/sessions"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.headers["Location"] == "/auth/account", path
    assert "Your role needs two-factor login" in page_text(client.get("/auth/account"))
    secret, codes = enrol_through_the_pages(client)
    assert len(codes) == mfa.RECOVERY_CODE_COUNT == len(set(codes))
    assert client.get("/").status_code == 200
    factor = db.session.get(TotpFactor, supervisor.id)
    assert secret not in factor.secret, "the secret is stored encrypted"
    assert mfa.decrypt_secret(factor.secret, supervisor.id) == secret
    stored = db.session.scalars(select(RecoveryCode.code_hash)).all()
    assert all(item.startswith("$argon2id$") for item in stored)
    assert not any(c.replace("-", "") in h for c in codes for h in stored)
    assert actions()[-2:] == ["mfa.setup_start", "mfa.enrol"]


def test_the_qr_code_is_an_svg_drawn_here(client, login_as):
    login_as("worker")
    client.post("/auth/two-factor/setup", data={"setup-password": TEST_PASSWORD})
    page = page_text(client.get("/auth/two-factor/confirm"))
    source = re.search(r'<img class="qr" src="([^"]+)"', page).group(1)
    assert source.startswith("data:image/svg+xml;base64,")
    svg = base64.b64decode(source.split(",", 1)[1]).decode()
    assert svg.startswith("<svg") and 'xmlns="http://www.w3.org/2000/svg"' in svg
    assert "http" not in page.split("<img", 1)[1].split(">", 1)[0].replace("http://www.w3.org", "")


def test_setting_up_needs_the_password_again(client, login_as):
    worker = login_as("worker")
    for password, status in (("", 422), ("not my password", 422)):
        response = client.post("/auth/two-factor/setup", data={"setup-password": password})
        assert response.status_code == status
    assert "That is not your password." in page_text(response)
    db.session.refresh(worker)
    assert worker.failed_logins == 1, "a wrong password counts towards the lockout"
    assert db.session.get(TotpFactor, worker.id) is None
    assert client.get("/auth/two-factor/confirm").headers["Location"] == "/auth/account"


def test_a_wrong_first_code_turns_nothing_on(client, login_as):
    worker = login_as("worker")
    client.post("/auth/two-factor/setup", data={"setup-password": TEST_PASSWORD})
    for typed in ("000000", "12345", "abcdef", "9" * 40):
        response = client.post("/auth/two-factor/confirm", data={"code": typed})
        assert response.status_code == 422, typed
    assert not mfa.is_enrolled(worker.id)


def test_an_abandoned_set_up_expires(client, login_as, clock):
    login_as("worker")
    client.post("/auth/two-factor/setup", data={"setup-password": TEST_PASSWORD})
    assert client.get("/auth/two-factor/confirm").status_code == 200
    clock.now += mfa.SETUP_LIFETIME + timedelta(seconds=1)
    assert client.get("/auth/two-factor/confirm").headers["Location"] == "/auth/account"


def test_login_asks_for_the_code_before_any_session_exists(required, client):
    supervisor = factories.make_user("supervisor", username="sam")
    secret = enrol(supervisor)
    response = log_in(client, "sam")
    assert response.headers["Location"] == "/auth/login/code"
    assert db.session.scalars(select(UserSession)).all() == []
    assert client.get("/").headers["Location"].startswith("/auth/login")
    assert client.post("/auth/keepalive").headers["Location"].startswith("/auth/login")
    assert "two-factor" in page_text(client.get("/auth/login/code")).lower()
    done = client.post("/auth/login/code", data={"code": code(secret)})
    assert done.status_code == 302 and done.headers["Location"] == "/"
    assert client.get("/").status_code == 200
    assert live_sessions(supervisor) == 1
    assert actions() == ["auth.second_factor_asked", "auth.login"]
    event = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert event.data == '{"factor":"totp"}'


def test_a_code_works_once_only(client):
    worker = factories.make_user("worker", username="wanda")
    secret = enrol(worker)
    now = code(secret)
    log_in(client, "wanda")
    assert client.post("/auth/login/code", data={"code": now}).status_code == 302
    client.post("/auth/logout")
    log_in(client, "wanda")
    replay = client.post("/auth/login/code", data={"code": now})
    assert replay.status_code == 401
    assert "That code did not work" in page_text(replay)
    earlier = client.post("/auth/login/code", data={"code": code(secret, -1)})
    assert earlier.status_code == 401, "a code older than the last one used is refused too"


def test_a_code_is_accepted_only_within_its_own_time_step(client, clock):
    worker = factories.make_user("worker", username="wanda")
    secret = enrol(worker)
    log_in(client, "wanda")
    for other_step in (-1, 1, -10):
        response = client.post("/auth/login/code", data={"code": code(secret, other_step)})
        assert response.status_code == 401, other_step
    shown = code(secret)
    clock.advance()
    late = client.post("/auth/login/code", data={"code": shown})
    assert late.status_code == 401, "30 seconds later the code is dead"
    assert client.post("/auth/login/code", data={"code": code(secret)}).status_code == 302


def test_the_time_step_check(app):
    secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    moment = utcnow()
    step = mfa.current_step(moment)
    now = pyotp.TOTP(secret).generate_otp(step)
    assert mfa.matching_step(secret, now, None, moment) == step
    assert mfa.matching_step(secret, f" {now[:3]} {now[3:]} ", None, moment) == step
    assert mfa.matching_step(secret, now, step, moment) is None, "used already"
    for other in (step - 1, step + 1):
        typed = pyotp.TOTP(secret).generate_otp(other)
        assert mfa.matching_step(secret, typed, None, moment) is None, "another step's code"
    for typed in ("", "12345", "1234567", "١٢٣٤٥٦", "abcdef"):
        assert mfa.matching_step(secret, typed, None, moment) is None, typed


def test_wrong_codes_lock_the_account_like_wrong_passwords(app, client):
    app.config.update(LOGIN_MAX_FAILURES=3)
    worker = factories.make_user("worker", username="wanda")
    secret = enrol(worker)
    log_in(client, "wanda")
    for _ in range(2):
        assert client.post("/auth/login/code", data={"code": "000000"}).status_code == 401
    locked = client.post("/auth/login/code", data={"code": "000000"})
    assert locked.status_code == 401
    assert "Login failed." in page_text(locked)
    db.session.refresh(worker)
    assert worker.locked_until > utcnow()
    log_in(client, "wanda")
    assert client.post("/auth/login/code", data={"code": code(secret)}).status_code != 302
    assert live_sessions(worker) == 0
    assert "auth.lockout" in actions()


def test_a_recovery_code_works_once(client):
    worker = factories.make_user("worker", username="wanda")
    enrol(worker)
    codes = mfa.new_recovery_codes(worker.id)
    db.session.commit()
    log_in(client, "wanda")
    typed = codes[3].upper().replace("-", " ")
    assert client.post("/auth/login/code", data={"code": typed}).status_code == 302
    assert mfa.recovery_codes_left(worker.id) == mfa.RECOVERY_CODE_COUNT - 1
    client.post("/auth/logout")
    log_in(client, "wanda")
    assert client.post("/auth/login/code", data={"code": codes[3]}).status_code == 401
    assert "mfa.recovery_code_used" in actions()


def test_new_recovery_codes_replace_the_old_and_need_the_password(client, login_as):
    worker = login_as("worker")
    enrol(worker)
    old = mfa.new_recovery_codes(worker.id)
    db.session.commit()
    refused = client.post("/auth/two-factor/recovery-codes", data={"codes-password": "nope"})
    assert refused.status_code == 422
    response = client.post(
        "/auth/two-factor/recovery-codes", data={"codes-password": TEST_PASSWORD}
    )
    assert response.status_code == 200
    new = re.findall(r"<li><code>([a-z0-9-]+)</code></li>", page_text(response))
    assert len(new) == mfa.RECOVERY_CODE_COUNT and not set(new) & set(old)
    assert not mfa.use_recovery_code(worker.id, old[0])
    assert mfa.use_recovery_code(worker.id, new[0])


def test_a_pending_login_cannot_be_replayed_after_it_is_used(client, clock):
    worker = factories.make_user("worker", username="wanda")
    secret = enrol(worker)
    log_in(client, "wanda")
    pending_cookie = client.get_cookie("outreach_session").value
    client.post("/auth/login/code", data={"code": code(secret)})
    client.post("/auth/logout")
    client.set_cookie("outreach_session", pending_cookie)
    clock.advance()
    replay = client.post("/auth/login/code", data={"code": code(secret)})
    assert "This login has expired" in page_text(replay)
    assert live_sessions(worker) == 0


def test_a_pending_login_expires(client, monkeypatch):
    worker = factories.make_user("worker", username="wanda")
    secret = enrol(worker)
    log_in(client, "wanda")
    later = __import__("time").time() + 301
    monkeypatch.setattr("outreach.auth.views.time.time", lambda: later)
    response = client.post("/auth/login/code", data={"code": code(secret)})
    assert "This login has expired" in page_text(response)
    assert live_sessions(worker) == 0


def test_the_second_step_keeps_next_but_never_sends_off_site(client, clock):
    worker = factories.make_user("worker", username="wanda")
    secret = enrol(worker)
    log_in(client, "wanda", next="/encounters")
    assert client.post("/auth/login/code", data={"code": code(secret)}).headers["Location"] == (
        "/encounters"
    )
    client.post("/auth/logout")
    log_in(client, "wanda", next="//evil.example/")
    clock.advance()
    response = client.post("/auth/login/code", data={"code": code(secret)})
    assert response.headers["Location"] == "/"


def test_the_role_setting(app, client):
    worker = factories.make_user("worker", username="wanda")
    db.session.commit()
    log_in(client, "wanda")
    assert client.get("/").status_code == 200, "workers are not required by default"
    app.config["MFA_REQUIRED_ROLES"] = "all"
    assert client.get("/").headers["Location"] == "/auth/account"
    app.config["MFA_REQUIRED_ROLES"] = "worker, supervisor"
    assert mfa.is_required(worker)
    app.config["MFA_REQUIRED_ROLES"] = "janitor"
    with pytest.raises(RuntimeError, match="janitor"):
        mfa.required_roles()
    with pytest.raises(RuntimeError, match="MFA_REQUIRED_ROLES names unknown roles: janitor"):
        make_test_app("sqlite://", MFA_REQUIRED_ROLES="worker,janitor")


def test_turning_off_needs_the_password_and_a_role_that_allows_it(required, client):
    supervisor = factories.make_user("supervisor", username="sam")
    secret = enrol(supervisor)
    log_in(client, "sam")
    client.post("/auth/login/code", data={"code": code(secret)})
    refused = client.post("/auth/two-factor/disable", data={"off-password": TEST_PASSWORD})
    assert refused.status_code == 422
    assert "Your role requires two-factor login" in page_text(refused)
    assert mfa.is_enrolled(supervisor.id)
    required.config["MFA_REQUIRED_ROLES"] = "admin"
    assert client.post("/auth/two-factor/disable", data={"off-password": "x"}).status_code == 422
    done = client.post("/auth/two-factor/disable", data={"off-password": TEST_PASSWORD})
    assert done.status_code == 302
    assert not mfa.is_enrolled(supervisor.id)
    assert "mfa.disable" in actions()


def test_moving_to_a_new_phone_keeps_the_old_one_until_the_new_one_works(client, login_as):
    worker = login_as("worker")
    old = enrol(worker)
    client.post("/auth/two-factor/setup", data={"setup-password": TEST_PASSWORD})
    factor = db.session.get(TotpFactor, worker.id)
    assert mfa.decrypt_secret(factor.secret, worker.id) == old
    page = page_text(client.get("/auth/two-factor/confirm"))
    new = re.search(r"<code>([A-Z2-7 ]+)</code>", page).group(1).replace(" ", "")
    assert client.post("/auth/two-factor/confirm", data={"code": code(new)}).status_code == 200
    db.session.refresh(factor)
    assert mfa.decrypt_secret(factor.secret, worker.id) == new
    event = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert event.action == "mfa.enrol" and '"replaced":true' in event.data


def test_an_administrator_resets_a_lost_phone_and_it_is_audited(required, client):
    admin = factories.make_user("admin", username="root")
    supervisor = factories.make_user("supervisor", username="sam")
    enrol(admin, secret=(admin_secret := "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"))
    sam_secret = enrol(supervisor)
    sam = client.application.test_client()
    log_in(sam, "sam")
    sam.post("/auth/login/code", data={"code": code(sam_secret)})
    log_in(client, "root")
    client.post("/auth/login/code", data={"code": code(admin_secret)})
    page = page_text(client.get(f"/admin/users/{supervisor.id}"))
    assert "Reset two-factor login" in page
    response = client.post(f"/admin/users/{supervisor.id}/two-factor/reset")
    assert response.status_code == 302
    assert not mfa.is_enrolled(supervisor.id)
    assert db.session.scalars(select(RecoveryCode)).all() == []
    assert sam.get("/").headers["Location"].startswith("/auth/login"), "logged out everywhere"
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "mfa.reset")).one()
    assert (event.actor_id, event.entity_id) == (admin.id, str(supervisor.id))
    assert '"sessions_ended":1' in event.data
    log_in(sam, "sam")
    assert sam.get("/").headers["Location"] == "/auth/account", "and must set up again"


def test_only_administrators_reset_a_second_factor(client, login_as):
    victim = factories.make_user("worker")
    enrol(victim)
    login_as("supervisor")
    assert client.post(f"/admin/users/{victim.id}/two-factor/reset").status_code == 403
    assert mfa.is_enrolled(victim.id)


def test_secrets_are_sealed_to_their_user_and_key(app):
    token = mfa.encrypt_secret("JBSWY3DPEHPK3PXP", 7)
    assert "JBSWY3DPEHPK3PXP" not in token
    assert mfa.decrypt_secret(token, 8) is None, "a secret copied to another user fails"
    app.config["NOTES_KEY"] = "another-notes-key"
    assert mfa.decrypt_secret(token, 7) is None
    app.config["NOTES_KEY"] = "test-notes-key"
    assert mfa.decrypt_secret(token, 7) == "JBSWY3DPEHPK3PXP"
    tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    assert mfa.decrypt_secret(tampered, 7) is None
    assert mfa.decrypt_secret("not base64 at all!", 7) is None


def test_deleting_a_user_removes_their_second_factor(app):
    user = factories.make_user("worker")
    enrol(user)
    mfa.new_recovery_codes(user.id)
    db.session.commit()
    db.session.execute(User.__table__.delete().where(User.id == user.id))
    db.session.commit()
    assert db.session.scalars(select(TotpFactor)).all() == []
    assert db.session.scalars(select(RecoveryCode)).all() == []


def test_the_command_line_resets_a_second_factor_for_a_locked_out_administrator(app):
    admin = factories.make_user("admin", username="root")
    enrol(admin)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "reset-two-factor", "ROOT"])
    assert result.exit_code == 0, result.output
    assert not mfa.is_enrolled(admin.id)
    assert "mfa.reset" in actions()
    assert runner.invoke(args=["users", "reset-two-factor", "nobody"]).exit_code == 1


def test_after_a_notes_key_rotation_two_factor_still_works_and_moves_to_the_new_key(app, client):
    worker = factories.make_user("worker", username="wanda")
    secret = enrol(worker)
    other = factories.make_user("worker", username="walt")
    enrol(other)
    app.config.update(NOTES_KEY="the-new-notes-key", NOTES_KEYS_OLD=" test-notes-key ,")
    log_in(client, "wanda")
    assert client.post("/auth/login/code", data={"code": code(secret)}).status_code == 302
    result = app.test_cli_runner().invoke(args=["users", "reencrypt-two-factor"])
    assert result.exit_code == 0, result.output
    app.config["NOTES_KEYS_OLD"] = ""
    for user in (worker, other):
        token = db.session.get(TotpFactor, user.id).secret
        assert mfa.decrypt_secret(token, user.id), "readable with the new key alone"
    app.config["NOTES_KEY"] = "yet-another-key"
    failed = app.test_cli_runner().invoke(args=["users", "reencrypt-two-factor"])
    assert failed.exit_code == 1 and "fit no key" in failed.output


def test_after_a_two_factor_change_the_other_devices_can_be_logged_out(client):
    worker = factories.make_user("worker", username="wanda")
    db.session.commit()
    phone = client.application.test_client()
    log_in(phone, "wanda")
    log_in(client, "wanda")
    enrol_through_the_pages(client)
    page = page_text(
        client.post("/auth/two-factor/recovery-codes", data={"codes-password": TEST_PASSWORD})
    )
    assert "You are also logged in on 1 other device(s)" in page
    assert 'action="/auth/sessions/end-others"' in page
    assert client.post("/auth/sessions/end-others").status_code == 302
    assert phone.get("/").status_code == 302
    assert client.get("/").status_code == 200
    assert live_sessions(worker) == 1


def test_a_password_reset_does_not_skip_the_second_factor(client):
    worker = factories.make_user("worker", username="wanda")
    secret = enrol(worker)
    admin = client.application.test_client()
    factories.make_user("admin", username="root")
    db.session.commit()
    log_in(admin, "root")
    page = page_text(admin.post(f"/admin/users/{worker.id}/reset-password"))
    temporary = re.search(r'<p class="secret"[^>]*><code>([^<]+)</code>', page).group(1)
    assert log_in(client, "wanda", password=temporary).headers["Location"] == "/auth/login/code"
    assert client.post("/auth/login/code", data={"code": code(secret)}).status_code == 302
    assert client.get("/").headers["Location"] == "/auth/password"
