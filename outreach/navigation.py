"""Role-aware navigation: one list, filtered by permission."""

from dataclasses import dataclass

from flask import current_app
from flask_login import current_user

from outreach.security import Permission, has_permission


@dataclass(frozen=True)
class NavItem:
    """A link in the main navigation, shown to roles with the permission."""

    endpoint: str
    prefix: str
    label: str
    permission: Permission


NAV_ITEMS: list[NavItem] = [
    NavItem("reports.dashboard", "reports.", "Reports", Permission.MAKE_REPORTS),
    NavItem("encounters.new", "encounters.new", "Log encounter", Permission.LOG_ENCOUNTERS),
    NavItem("clients.find", "clients.", "Find participant", Permission.VIEW_PARTICIPANTS),
    NavItem("encounters.index", "encounters.index", "Encounters", Permission.LOG_ENCOUNTERS),
    NavItem("referrals.queue", "referrals.", "Follow-up", Permission.MAKE_REFERRALS),
    NavItem("inventory.index", "inventory.", "Stock", Permission.MANAGE_STOCK),
    NavItem("users.index", "users.", "Users", Permission.MANAGE_USERS),
    NavItem("users.sites", "users.site", "Sites", Permission.MANAGE_SITES),
    NavItem("supplies.index", "supplies.", "Supplies", Permission.MANAGE_CATALOG),
    NavItem("referrals.agencies_index", "referrals.agenc", "Agencies", Permission.MANAGE_CATALOG),
    NavItem("audit.index", "audit.", "Audit log", Permission.VIEW_AUDIT),
]


def nav_items() -> list[NavItem]:
    """Return the navigation links the current user may follow."""
    return [
        item
        for item in NAV_ITEMS
        if has_permission(current_user, item.permission) and is_registered(item.endpoint)
    ]


def current_nav_endpoint(endpoint: str | None) -> str | None:
    """Return the navigation item the page belongs to: the longest matching prefix."""
    matches = [item for item in NAV_ITEMS if (endpoint or "").startswith(item.prefix)]
    if not matches:
        return None
    return max(matches, key=lambda item: len(item.prefix)).endpoint


def is_registered(endpoint: str) -> bool:
    """Tell whether an endpoint exists in this app (a feature may be left out)."""
    return endpoint in current_app.view_functions


@dataclass(frozen=True)
class HomeTile:
    """A large button on the home page, shown to roles with the permission."""

    endpoint: str
    label: str
    text: str
    permission: Permission
    primary: bool = False


HOME_TILES: list[HomeTile] = [
    HomeTile("reports.dashboard", "Dashboard", "This month and trends", Permission.MAKE_REPORTS),
    HomeTile(
        "reports.monthly", "Monthly report", "PDF and CSV for funders", Permission.MAKE_REPORTS
    ),
    HomeTile(
        "encounters.new",
        "Log an encounter",
        "Supplies, returns, reversals, services",
        Permission.LOG_ENCOUNTERS,
        primary=True,
    ),
    HomeTile(
        "clients.find",
        "Find a participant",
        "By card code or code answers",
        Permission.VIEW_PARTICIPANTS,
    ),
    HomeTile(
        "encounters.index", "Recent encounters", "Check and correct", Permission.LOG_ENCOUNTERS
    ),
    HomeTile(
        "referrals.queue", "Referral follow-up", "Who is due a check-in", Permission.MAKE_REFERRALS
    ),
    HomeTile(
        "inventory.index",
        "Stock",
        "On hand, receive, transfer, count",
        Permission.MANAGE_STOCK,
    ),
    HomeTile(
        "clients.recipe",
        "Participant codes",
        "Which answers make a code",
        Permission.MANAGE_CATALOG,
    ),
    HomeTile("users.index", "Users", "Accounts, roles, sessions", Permission.MANAGE_USERS),
    HomeTile("users.sites", "Sites", "Office, vans, routes", Permission.MANAGE_SITES),
    HomeTile("supplies.index", "Supplies", "What workers hand out", Permission.MANAGE_CATALOG),
    HomeTile(
        "referrals.agencies_index",
        "Referral agencies",
        "Where workers refer people",
        Permission.MANAGE_CATALOG,
    ),
    HomeTile(
        "imports.upload", "Import encounters", "From an older system's CSV", Permission.IMPORT_DATA
    ),
    HomeTile("audit.index", "Audit log", "Who changed what", Permission.VIEW_AUDIT),
]


def home_tiles() -> list[HomeTile]:
    """Return the home page buttons the current user may follow, primary first."""
    tiles = [
        tile
        for tile in HOME_TILES
        if has_permission(current_user, tile.permission) and is_registered(tile.endpoint)
    ]
    return sorted(tiles, key=lambda tile: not tile.primary)
