"""Factories that build records for tests."""

import itertools

from outreach.auth.passwords import hash_password
from outreach.extensions import db
from outreach.users.models import Role, Site, SiteKind, User

TEST_PASSWORD = "correct horse battery staple"
_counter = itertools.count(1)


def make_user(
    role: str = Role.WORKER,
    username: str | None = None,
    password: str = TEST_PASSWORD,
    must_change_password: bool = False,
    sites: list[Site] | None = None,
    **fields,
) -> User:
    """Add a user who can log in with the test password."""
    user = User(
        username=username or f"{role}{next(_counter)}",
        role=Role(role),
        password_hash=hash_password(password),
        must_change_password=must_change_password,
        sites=sites or [],
        **fields,
    )
    db.session.add(user)
    db.session.flush()
    return user


def make_site(name: str | None = None, kind: str = SiteKind.FIXED, active: bool = True) -> Site:
    """Add a site."""
    site = Site(name=name or f"Site {next(_counter)}", kind=SiteKind(kind), active=active)
    db.session.add(site)
    db.session.flush()
    return site


def make_item(
    name: str | None = None,
    category: str = "syringes",
    units_per_pack: int = 1,
    doses_per_unit: int = 0,
    max_per_encounter: int = 200,
    active: bool = True,
):
    """Add a supply catalog item."""
    from outreach.supplies.models import SupplyItem

    item = SupplyItem(
        name=name or f"Item {next(_counter)}",
        category=category,
        unit="each",
        units_per_pack=units_per_pack,
        doses_per_unit=doses_per_unit,
        max_per_encounter=max_per_encounter,
        active=active,
        display_order=100,
    )
    db.session.add(item)
    db.session.flush()
    return item


def make_participant(code: str | None = None, suffix: int = 0, **fields):
    """Add a participant whose code is ``code`` (hashed with the app's key)."""
    from flask import current_app

    from outreach.clients.codes import card_code, code_digest
    from outreach.clients.models import Participant

    code = code or f"ZZ{next(_counter):04d}"
    digest = code_digest(code, current_app.config["CLIENT_CODE_KEY"].encode(), suffix)
    participant = Participant(
        code_hash=digest, suffix=suffix, card_code=card_code(digest), **fields
    )
    db.session.add(participant)
    db.session.flush()
    return participant


def make_encounter(
    worker: User, site: Site, participant=None, occurred_at=None, supplies=None, **fields
):
    """Add an encounter, with supplies given as {item: packs}."""
    from outreach.dbtypes import utcnow
    from outreach.encounters.models import Encounter, EncounterSupply

    encounter = Encounter(
        occurred_at=occurred_at or utcnow(),
        site_id=site.id,
        contact_type=fields.pop("contact_type", "street"),
        worker_id=worker.id,
        participant_id=participant.id if participant else None,
        **fields,
    )
    encounter.supplies = [
        EncounterSupply(item_id=item.id, quantity=quantity)
        for item, quantity in (supplies or {}).items()
    ]
    db.session.add(encounter)
    db.session.flush()
    return encounter


def make_mi_note(encounter, author: User | None = None, stage: str = "contemplation", **fields):
    """Add an MI note to an encounter with a participant (text fields are encrypted)."""
    from outreach.mi.services import MINoteInput, mi_note_create

    data = MINoteInput(focus=fields.pop("focus", "safer_use"), stage=stage, **fields)
    author = author or db.session.get(User, encounter.worker_id)
    return mi_note_create(encounter=encounter, author=author, data=data)


def make_agency(name: str | None = None, types=("moud",), active: bool = True, **fields):
    """Add a referral agency that takes the given referral types."""
    from outreach.referrals.models import Agency, AgencyService

    agency = Agency(name=name or f"Agency {next(_counter)}", active=active, **fields)
    agency.services = [AgencyService(referral_type=code) for code in types]
    db.session.add(agency)
    db.session.flush()
    return agency


def make_referral(
    encounter, referral_type: str = "moud", follow_up_on=None, status: str = "referred", **fields
):
    """Add a referral at an encounter, with its first history step, by the encounter's worker."""
    from outreach.referrals.models import Referral, ReferralStatusChange
    from outreach.referrals.services import local_date

    referral = Referral(
        encounter_id=encounter.id,
        participant_id=encounter.participant_id,
        referral_type=referral_type,
        referred_on=fields.pop("referred_on", None) or local_date(encounter.occurred_at),
        follow_up_on=follow_up_on,
        status=status,
        created_by_id=fields.pop("created_by_id", encounter.worker_id),
        **fields,
    )
    db.session.add(referral)
    db.session.flush()
    db.session.add(
        ReferralStatusChange(
            referral_id=referral.id,
            from_status=None,
            to_status="referred",
            follow_up_on=follow_up_on,
            changed_by_id=referral.created_by_id,
            changed_at=encounter.occurred_at,
        )
    )
    db.session.flush()
    return referral
