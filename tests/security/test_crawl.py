"""A crawl: every form and endpoint, as every role, fed hostile values: no 500, no change.

Forms are found by visiting every page as each role and reading its <form> elements with
html.parser. Three passes, sampled so the crawl stays fast:

1. every field of every form set to each main hostile value at once: nothing breaks and no
   table gains or loses a row (action buttons carry no input; CSRF protects them, see test_attacks);
2. each field alone (one per family, e.g. one supply of many) set to a hostile value, rotating
   through all of them, the rest as the page filled them in:
   nothing breaks (such a form may be valid, so it may save);
3. every endpoint and method in the URL map, as each role that reaches its view (the access
   matrix shows the others stop at the gate), with hostile query and form values.
"""

from tests.security.crawl import (
    ALL_AT_ONCE,
    GENERIC_NAMES,
    HOSTILE,
    LOGS_OUT,
    Form,
    all_fields,
    discover,
    distinct,
    one_field,
    rotating_values,
    sampled_names,
)
from tests.security.helpers import row_counts
from tests.test_access_matrix import EXPECTED, OK, browser_as, url_for_endpoint

ROLES = ("anon", "worker", "supervisor", "admin")
SCRIPT = "<script>alert(1)</script>"


def send(browser, method: str, url: str, data: dict) -> str | None:
    """Submit and return what went wrong (a 500, an exception, reflected script), or None."""
    try:
        if method == "GET":
            response = browser.get(url, query_string=data)
        else:
            response = browser.open(url, method=method, data=data)
    except Exception as error:
        return f"raised {type(error).__name__}"
    if response.status_code >= 500:
        return f"HTTP {response.status_code}"
    if SCRIPT in response.get_data(as_text=True):
        return "reflected a script unescaped"
    return None


def report(problems: dict) -> str:
    """Format the problems found, one per line."""
    return "\n".join(f"{where}: {problem}" for where, problem in sorted(problems.items()))


def is_confirm_button(form: Form) -> bool:
    """Tell whether a form carries no input at all (an action button)."""
    return set(form.names()) <= {"csrf_token"}


def every_field_at_once(browsers, forms) -> dict[str, str]:
    """Send each hostile value in every field of every form; nothing may break or be written."""
    problems = {}
    for endpoint, form in forms:
        before = row_counts()
        for label in ALL_AT_ONCE:
            data = all_fields(form, HOSTILE[label])
            problem = send(browsers[form.role], form.method, form.action, data)
            if problem:
                problems[f"{form.role} {form.method} {endpoint} [{label}]"] = problem
        after = row_counts()
        changed = {name: (count, after[name]) for name, count in before.items()}
        changed = {name: counts for name, counts in changed.items() if counts[0] != counts[1]}
        if changed and not is_confirm_button(form):
            problems[f"{form.role} {form.method} {endpoint}"] = f"rows changed: {changed}"
    return problems


def one_field_at_a_time(browsers, forms) -> dict[str, str]:
    """Send a hostile value in each field of otherwise untouched forms; nothing may break."""
    problems, tried = {}, set()
    for number, (endpoint, form) in enumerate(forms):
        names = [name for name in sampled_names(form) if (endpoint, name) not in tried]
        tried.update((endpoint, name) for name in names)
        for name, label in zip(names, rotating_values(number), strict=False):
            data = one_field(form, name, HOSTILE[label])
            problem = send(browsers[form.role], form.method, form.action, data)
            if problem:
                problems[f"{form.role} {form.method} {endpoint} {name}=[{label}]"] = problem
    return problems


def every_endpoint(app, browsers, forms) -> dict[str, str]:
    """Send hostile query and form values to every endpoint and method, as each role."""
    known: dict[str, set[str]] = {}
    for endpoint, form in forms:
        known.setdefault(endpoint, set()).update(form.names())
    problems = {}
    rules = sorted(app.url_map.iter_rules(), key=lambda rule: rule.endpoint)
    for number, rule in enumerate(rule for rule in rules if rule.endpoint != "static"):
        names = sorted(set(GENERIC_NAMES) | known.get(rule.endpoint, set()))
        try:
            url = url_for_endpoint(app, rule.endpoint, None)
        except Exception:  # noqa: S112 (the access matrix reports endpoints it cannot build)
            continue
        for method in sorted(rule.methods & {"GET", "POST"}):
            for role, label in zip(
                roles_reaching(rule.endpoint), rotating_values(number), strict=False
            ):
                browser = browsers[role]
                if rule.endpoint in LOGS_OUT and role != "anon":
                    browser, _ = browser_as(browser, role)
                problem = send(browser, method, url, dict.fromkeys(names, HOSTILE[label]))
                if problem:
                    problems[f"{role} {method} {rule.endpoint} [{label}]"] = problem
    return problems


def roles_reaching(endpoint: str) -> list[str]:
    """Return the roles whose requests reach the view (all roles for an unlisted endpoint)."""
    expected = EXPECTED.get(endpoint)
    return [role for role in ROLES if expected is None or expected[role] == OK]


def test_hostile_values_in_every_form_and_endpoint_break_nothing_and_write_nothing(app, client):
    browsers, found = {}, []
    for role in ROLES:
        browser, me = browser_as(client, role)
        browsers[role] = browser
        found.extend(discover(app, browser, role, me))
    forms = distinct(app, found)
    endpoints = {endpoint for endpoint, _ in forms}
    assert {"auth.login", "users.create", "encounters.new", "auth.change_password"} <= endpoints
    problems = every_field_at_once(browsers, forms)
    problems |= one_field_at_a_time(browsers, forms)
    problems |= every_endpoint(app, browsers, forms)
    assert not problems, f"{len(problems)} problems:\n" + report(problems)


def test_hostile_numbers_in_urls_are_not_found(client, login_as):
    login_as("admin")
    for path in (
        "/admin/users/99999999999999999999",
        "/admin/users/2147483648",
        "/admin/users/-1",
        "/admin/sites/1e3",
        "/encounters/9223372036854775808",
    ):
        assert client.get(path).status_code == 404, path
