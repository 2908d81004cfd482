"""Find every form by visiting every page as every role, and build hostile submissions."""

import itertools
import re
import uuid
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urlsplit

from flask import Flask
from werkzeug.exceptions import HTTPException
from werkzeug.routing import BuildError

from tests.test_access_matrix import url_for_endpoint

#: Values no worker types, each aimed at a different kind of bug.
HOSTILE = {
    "overlong": "x" * 5000,
    "nul": "a\x00b",
    "unicode": "Zoë 🙂 \u202eevil\u202c 𝔘𝔫𝔦 \u200b\ufeff ﷽ ǅ",
    "sql": "1' OR '1'='1' --; DROP TABLE users; SELECT pg_sleep(5)",
    "script": "<script>alert(1)</script>\"'><img src=x onerror=alert(1)>",
    "huge": "9" * 30,
    "odd_digits": "١٢³",
    "int_edge": "2147483648",
    "negative": "-9223372036854775809",
    "float": "1e309",
    "nan": "NaN",
    "date": "0000-00-00T99:99",
    "empty": "",
}
#: The values sent in every field at once (the others only make sense one field at a time).
ALL_AT_ONCE = ("overlong", "nul", "unicode", "sql", "script", "huge", "odd_digits", "empty")
#: Query and form names tried on endpoints where no page shows a form.
GENERIC_NAMES = ("q", "code", "page", "next", "participant", "id", "month", "site", "action")
#: Endpoints the crawl does not submit to as the logged-in crawler (they log it out).
LOGS_OUT = {"auth.logout"}


@dataclass
class Form:
    """A form found on a page: where it goes and its fields with their defaults."""

    role: str
    page: str
    method: str
    action: str
    #: (name, default value, kind) for every named field, in page order.
    fields: list[tuple[str, str, str]] = field(default_factory=list)

    def defaults(self) -> dict[str, list[str]]:
        """Return what the browser would send untouched (ticked boxes, chosen options)."""
        sent: dict[str, list[str]] = {}
        for name, value, kind in self.fields:
            if kind in ("checkbox", "radio", "option") and value is None:
                continue
            sent.setdefault(name, []).append(value or "")
        return sent

    def names(self) -> list[str]:
        """Return the field names, each once."""
        return list(dict.fromkeys(name for name, _, _ in self.fields))


class FormParser(HTMLParser):
    """Collect the forms of a page with html.parser."""

    def __init__(self, role: str, page: str):
        super().__init__()
        self.role, self.page = role, page
        self.forms: list[Form] = []
        self.current: Form | None = None
        self.select: str | None = None
        self.textarea: str | None = None
        self.first_option: tuple[str, str] | None = None
        self.chosen = False

    def handle_starttag(self, tag, attrs):
        """Open forms, note inputs, selects, options and text areas."""
        attrs = dict(attrs)
        if tag == "form":
            action = attrs.get("action") or self.page
            method = (attrs.get("method") or "get").upper()
            self.current = Form(self.role, self.page, method, action)
            self.forms.append(self.current)
        if self.current is None or tag == "form":
            return
        name = attrs.get("name")
        if tag == "input" and name and attrs.get("type") not in ("submit", "button", "image"):
            kind = attrs.get("type") or "text"
            checked = "checked" in attrs
            value = attrs.get("value", "on" if kind in ("checkbox", "radio") else "")
            if kind in ("checkbox", "radio") and not checked:
                value = None
            self.current.fields.append((name, value, kind))
        elif tag == "select" and name:
            self.select, self.first_option, self.chosen = name, None, False
        elif tag == "option" and self.select:
            value = attrs.get("value", "")
            if self.first_option is None:
                self.first_option = (self.select, value)
            if "selected" in attrs:
                self.current.fields.append((self.select, value, "select"))
                self.chosen = True
        elif tag == "textarea" and name:
            self.textarea = name
            self.current.fields.append((name, "", "textarea"))

    def handle_endtag(self, tag):
        """Close forms and selects (a select with nothing chosen sends its first option)."""
        if tag == "form":
            self.current = None
        elif tag == "select" and self.select:
            if not self.chosen and self.first_option and self.current is not None:
                self.current.fields.append((*self.first_option, "select"))
            self.select = None
        elif tag == "textarea":
            self.textarea = None

    def handle_data(self, data):
        """Keep what a text area already holds."""
        if self.textarea and self.current and self.current.fields:
            name, value, kind = self.current.fields[-1]
            self.current.fields[-1] = (name, value + data, kind)


def endpoint_of(app: Flask, path: str, method: str) -> str | None:
    """Return the endpoint a path and method reach, if any."""
    try:
        endpoint, _ = app.url_map.bind("localhost").match(urlsplit(path).path, method=method)
    except HTTPException:
        return None
    return endpoint


def page_urls(app: Flask, me) -> list[tuple[str, str]]:
    """Return (endpoint, URL) for every page a GET can reach, building the rows they need."""
    urls = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda rule: rule.endpoint):
        if "GET" not in rule.methods or rule.endpoint == "static":
            continue
        try:
            urls.append((rule.endpoint, url_for_endpoint(app, rule.endpoint, me)))
        except (BuildError, KeyError):
            continue
    return urls


def discover(app: Flask, browser, role: str, me) -> list[Form]:
    """Visit every page as a role and return the forms found there."""
    forms = []
    for _, url in page_urls(app, me):
        response = browser.get(url)
        if response.status_code != 200 or "html" not in response.content_type:
            continue
        parser = FormParser(role, url)
        parser.feed(response.get_data(as_text=True))
        forms.extend(parser.forms)
    return forms


def distinct(app: Flask, forms: list[Form]) -> list[tuple[str, Form]]:
    """Keep one form per (endpoint, field names), the first role's; return with endpoints."""
    seen, kept = set(), []
    for form in forms:
        endpoint = endpoint_of(app, form.action, form.method)
        key = (endpoint, form.method, tuple(sorted(form.names())))
        if endpoint is None or endpoint in LOGS_OUT or key in seen:
            continue
        seen.add(key)
        kept.append((endpoint, form))
    return kept


def all_fields(form: Form, value: str) -> dict[str, list[str]]:
    """Return a submission with every field, hidden ones included, set to the value."""
    return {name: [value] for name in form.names()}


def sampled_names(form: Form) -> list[str]:
    """Return the field names, one per family (``supply-1``, ``supply-2``… are one family)."""
    families, names = set(), []
    for name in form.names():
        family = re.sub(r"\d+", "#", name)
        if family not in families:
            families.add(family)
            names.append(name)
    return names


def one_field(form: Form, name: str, value: str) -> dict[str, list[str]]:
    """Return the form's defaults with one field set to the value and a fresh form key."""
    sent = form.defaults()
    sent[name] = [value]
    if "idempotency_key" in sent and name != "idempotency_key":
        sent["idempotency_key"] = [str(uuid.uuid4())]
    return sent


def rotating_values(start: int):
    """Cycle through the hostile values from some offset, so each form tries different ones."""
    names = list(HOSTILE)
    return itertools.islice(itertools.cycle(names), start % len(names), None)
