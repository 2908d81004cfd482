"""MI note text at rest: AES-GCM ciphertext only, bound to its field, and key rotation."""

import json

import pytest
from sqlalchemy import func, select, text

from outreach.audit.models import AuditEvent
from outreach.extensions import db
from outreach.mi.crypto import derive_key, keyring
from outreach.mi.models import MINote
from outreach.mi.services import MINoteInput, mi_note_update, open_text
from outreach.users.models import Role
from tests import factories
from tests.mi_helpers import GOAL, NEXT_STEPS, PLAINTEXTS, SUMMARY, note_on


@pytest.fixture
def setting(app):
    """A site and a participant."""
    site = factories.make_site("Van 1", kind="mobile")
    participant = factories.make_participant()
    db.session.commit()
    return {"site": site, "participant": participant}


def test_text_is_encrypted_at_rest(app, setting):
    worker = factories.make_user(Role.WORKER)
    note = note_on(setting, worker, goal=GOAL, next_steps=NEXT_STEPS, summary=SUMMARY)
    row = (
        db.session.execute(text("SELECT * FROM mi_notes WHERE id = :id"), {"id": note.id})
        .mappings()
        .one()
    )
    raw = b"".join(
        bytes(value) if isinstance(value, bytes | memoryview) else str(value).encode()
        for value in row.values()
    )
    for plaintext in PLAINTEXTS:
        assert plaintext.encode() not in raw
        assert plaintext.lower().encode() not in raw.lower()
    assert all(
        isinstance(row[column], bytes | memoryview) for column in ("goal", "next_steps", "summary")
    )
    assert row["key_version"] == derive_key(app.config["NOTES_KEY"]).version
    dumped = json.dumps([str(value) for value in row.values()])
    assert not any(plaintext in dumped for plaintext in PLAINTEXTS)


def test_an_empty_text_field_stays_empty_and_text_cannot_move_between_fields(app, setting):
    worker = factories.make_user(Role.WORKER)
    note = note_on(setting, worker, goal=GOAL)
    assert note.next_steps_ciphertext is None and note.summary_ciphertext is None
    assert open_text(note).summary == ""
    note.summary_ciphertext = note.goal_ciphertext  # a copied ciphertext is refused
    with pytest.raises(Exception, match="does not decrypt"):
        open_text(note)


def test_two_encryptions_of_the_same_text_differ(app, setting):
    worker = factories.make_user(Role.WORKER)
    first = note_on(setting, worker, goal=GOAL)
    second = note_on(setting, worker, goal=GOAL, days_ago=1)
    assert first.goal_ciphertext != second.goal_ciphertext


def test_rotation_reencrypts_every_note_with_the_new_key(app, setting):
    worker = factories.make_user(Role.WORKER)
    old_secret = app.config["NOTES_KEY"]
    notes = [note_on(setting, worker, goal=f"{GOAL} {n}", days_ago=n) for n in range(3)]
    before = {note.id: note.goal_ciphertext for note in notes}
    app.config["NOTES_KEY"] = "a-brand-new-notes-key-for-rotation"
    app.config["NOTES_KEYS_OLD"] = f" {old_secret} ,"
    try:
        assert open_text(notes[0]).goal == f"{GOAL} 0"  # old notes still read meanwhile
        result = app.test_cli_runner().invoke(args=["mi", "rotate-key"])
        assert result.exit_code == 0, result.output
        assert "Re-encrypted 3 note(s)" in result.output
        db.session.expire_all()
        new_version = keyring().current.version
        app.config["NOTES_KEYS_OLD"] = ""  # the old key can now go
        for note in db.session.scalars(select(MINote)):
            assert note.key_version == new_version
            assert note.goal_ciphertext != before[note.id]
            assert open_text(note).goal.startswith(GOAL)
        again = app.test_cli_runner().invoke(args=["mi", "rotate-key"])
        assert "Re-encrypted 0 note(s)" in again.output
        events = db.session.scalars(
            select(AuditEvent.data)
            .where(AuditEvent.action == "mi_note.rotate_key")
            .order_by(AuditEvent.id)
        ).all()
        assert [json.loads(data)["notes"] for data in events] == [3, 0]
    finally:
        app.config["NOTES_KEY"] = old_secret
        app.config["NOTES_KEYS_OLD"] = ""


def test_rotation_without_the_old_key_fails_loudly_and_changes_nothing(app, setting):
    worker = factories.make_user(Role.WORKER)
    old_secret = app.config["NOTES_KEY"]
    note = note_on(setting, worker, goal=GOAL)
    sealed = note.goal_ciphertext
    app.config["NOTES_KEY"] = "another-new-notes-key-without-the-old"
    try:
        result = app.test_cli_runner().invoke(args=["mi", "rotate-key"])
        assert result.exit_code == 1
        assert "1 note(s) could not be decrypted" in result.output
        assert GOAL not in result.output
        db.session.expire_all()
        assert db.session.get(MINote, note.id).goal_ciphertext == sealed
    finally:
        app.config["NOTES_KEY"] = old_secret


def test_key_version_lists_notes_per_key(app, setting):
    worker = factories.make_user(Role.WORKER)
    note_on(setting, worker)
    result = app.test_cli_runner().invoke(args=["mi", "key-version"])
    current = derive_key(app.config["NOTES_KEY"]).version
    assert f"Current notes key: {current}" in result.output
    assert f"{current}: 1 note(s) (current)" in result.output


def test_service_update_reseals_with_the_current_key(app, setting):
    worker = factories.make_user(Role.WORKER)
    note = note_on(setting, worker, goal=GOAL)
    data = MINoteInput(focus="other", stage="action", summary=SUMMARY)
    mi_note_update(note=note, data=data, expected_version=note.version)
    db.session.commit()
    assert note.goal_ciphertext is None
    assert open_text(note).summary == SUMMARY


def test_a_goal_that_cannot_be_decrypted_is_not_shown_as_none(app, client, login_as, setting):
    worker = login_as(Role.WORKER, sites=[setting["site"]])
    note_on(setting, worker, goal=GOAL)
    app.config["NOTES_KEY"] = "a-key-that-never-wrote-this-note"
    participant_id = setting["participant"].id
    shown = select(func.count()).where(AuditEvent.action == "mi_note.read_fields")
    for url in (f"/encounters/new?participant={participant_id}", f"/participants/{participant_id}"):
        before = db.session.scalar(shown)
        page = client.get(url).get_data(as_text=True)
        assert "Last MI conversation" in page, url
        assert "cannot be decrypted" in page and "None recorded" not in page, url
        assert db.session.scalar(shown) > before, "the fields shown are an audited read"
