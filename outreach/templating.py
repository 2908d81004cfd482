"""Jinja filters: local times and browser names."""

from datetime import date, datetime
from functools import cache
from zoneinfo import ZoneInfo

from flask import Flask, current_app

from outreach.dbtypes import utcnow


@cache
def zone_named(name: str) -> ZoneInfo:
    """Return a time zone by its name, built once."""
    return ZoneInfo(name)


def program_zone() -> ZoneInfo:
    """Return the program's time zone."""
    return zone_named(current_app.config["OUTREACH_TIMEZONE"])


def local_date(moment: datetime) -> date:
    """Return the program-local date of a UTC moment."""
    return moment.astimezone(program_zone()).date()


def local_today() -> date:
    """Return today's date in the program's time zone."""
    return local_date(utcnow())


def when(value: datetime | None) -> str:
    """Show a timestamp in the program's time zone."""
    if value is None:
        return ""
    return value.astimezone(program_zone()).strftime("%Y-%m-%d %H:%M")


def browser(user_agent: str | None) -> str:
    """Name the browser family of a user agent, briefly."""
    agent = user_agent or ""
    for name in ("Edg", "Firefox", "Chrome", "Safari"):
        if name in agent:
            return {"Edg": "Edge"}.get(name, name)
    return "browser"


def register_filters(app: Flask) -> None:
    """Add the filters to Jinja."""
    app.add_template_filter(when)
    app.add_template_filter(browser)
