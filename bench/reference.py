"""The benchmark's reference data: sites, staff and the supply catalog, added through the ORM."""

import random
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from outreach.auth.passwords import hash_password
from outreach.dbtypes import utcnow
from outreach.extensions import db
from outreach.inventory.checks import QUANTITY_MAX
from outreach.inventory.services import stock_receive
from outreach.supplies.models import SupplyItem
from outreach.users.models import Role, Site, User

BENCH_PASSWORD = "bench horse battery staple"  # noqa: S105 - a throwaway benchmark account
SITES = [
    ("Downtown fixed site", "fixed", 5),
    ("Eastside van", "mobile", 4),
    ("Westside van", "mobile", 3),
    ("Riverside walk", "street", 2),
    ("Harbor drop-in", "fixed", 3),
    ("North corridor", "street", 2),
    ("Campus clinic", "fixed", 1),
    ("Rail yards", "street", 1),
    ("Delivery route", "other", 1),
    ("Hospital bridge", "other", 1),
]
#: name, category, units per pack, doses per unit, max per encounter, popularity
ITEMS = [
    ("1 mL syringes, box of 10", "syringes", 10, 0, 20, 30),
    ("0.5 mL syringes, box of 10", "syringes", 10, 0, 20, 12),
    ("Cookers", "injection_equipment", 1, 0, 50, 12),
    ("Cottons", "injection_equipment", 1, 0, 50, 10),
    ("Sterile water ampoules", "injection_equipment", 1, 0, 50, 10),
    ("Alcohol pads", "injection_equipment", 1, 0, 100, 8),
    ("Tourniquets", "injection_equipment", 1, 0, 10, 4),
    ("Glass stems", "smoking", 1, 0, 20, 9),
    ("Naloxone nasal kit", "naloxone", 1, 2, 4, 8),
    ("Fentanyl test strips", "test_strips", 1, 0, 50, 9),
    ("Wound care kit", "wound_care", 1, 0, 5, 3),
    ("Condoms", "safer_sex", 1, 0, 50, 5),
]


@dataclass
class Reference:
    """Ids of the reference rows, as plain values (no ORM objects held across the load)."""

    sites: list[tuple[int, str]]
    site_workers: dict[int, list[int]]
    supervisor_id: int
    items: list[tuple[int, int]]
    worker_username: str
    worker_site_id: int


def reference_data(rng: random.Random) -> Reference:
    """Add sites, 40 workers, a supervisor and the supply catalog through the ORM."""
    sites = [Site(name=name, kind=kind) for name, kind, _ in SITES]
    db.session.add_all(sites)
    password_hash = hash_password(BENCH_PASSWORD)
    workers = []
    for number in range(1, 41):
        home = sites[(number - 1) % len(sites)]
        extra = rng.choice(sites) if number % 3 == 0 else home
        workers.append(
            User(
                username=f"worker{number:02d}",
                role=Role.WORKER,
                password_hash=password_hash,
                must_change_password=False,
                sites=[home] if extra is home else [home, extra],
            )
        )
    supervisor = User(
        username="supervisor1",
        role=Role.SUPERVISOR,
        password_hash=password_hash,
        must_change_password=False,
    )
    items = [
        SupplyItem(
            name=name,
            category=category,
            unit="box" if units > 1 else "each",
            units_per_pack=units,
            doses_per_unit=doses,
            max_per_encounter=maximum,
            display_order=position,
        )
        for position, (name, category, units, doses, maximum, _) in enumerate(ITEMS)
    ]
    db.session.add_all([*workers, supervisor, *items])
    db.session.flush()
    reference = Reference(
        sites=[(site.id, site.kind) for site in sites],
        site_workers={
            site.id: [worker.id for worker in workers if site in worker.sites] for site in sites
        },
        supervisor_id=supervisor.id,
        items=[(item.id, item.max_per_encounter) for item in items],
        worker_username=workers[0].username,
        worker_site_id=workers[0].sites[0].id,
    )
    db.session.commit()
    db.session.close()
    return reference


def stock_the_shelves(reference: Reference) -> None:
    """Receive every item at every site, so saves write their stock lines as in a program
    that keeps stock (an encounter does not start the ledger)."""
    supervisor = db.session.get(User, reference.supervisor_id)
    expires_on = (utcnow() + timedelta(days=730)).date()
    items = db.session.scalars(select(SupplyItem)).all()
    for site_id, _ in reference.sites:
        for item in items:
            stock_receive(
                site_id=site_id,
                item_id=item.id,
                quantity=QUANTITY_MAX,
                by=supervisor,
                lot_number="BENCH1" if item.lot_tracked else None,
                expires_on=expires_on if item.lot_tracked else None,
            )
    db.session.commit()
    db.session.close()
