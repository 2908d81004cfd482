"""Browser fixtures: a live server on SQLite, headless Chromium, and page checks."""

import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from flask import Flask
from playwright.sync_api import Browser, Page, expect, sync_playwright
from werkzeug.serving import make_server

from outreach.extensions import db
from tests import factories
from tests.conftest import make_test_app

CHROMIUM = Path("/usr/bin/chromium")
BROWSER_DIR = Path(__file__).resolve().parent
MISSING_CHROMIUM = "Chromium not found: apt-get install chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]
TABLET = {"width": 768, "height": 1024}
DESKTOP = {"width": 1280, "height": 800}
#: The smallest comfortable touch target, in CSS pixels.
MIN_TARGET = 44
TOUCH_SELECTOR = (
    'a, button, input, select, textarea, summary, label.chip, [tabindex]:not([tabindex="-1"])'
)


def browser_required() -> bool:
    """Tell whether a missing Chromium must fail the run (CI) instead of skipping."""
    return os.environ.get("OUTREACH_REQUIRE_BROWSER") == "1"


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items) -> None:
    """Mark this folder's tests browser tests on one xdist worker; skip them without Chromium."""
    skip = pytest.mark.skip(reason=MISSING_CHROMIUM)
    for item in items:
        if not item.path.is_relative_to(BROWSER_DIR):
            continue
        item.add_marker(pytest.mark.browser)
        item.add_marker(pytest.mark.xdist_group("browser"))
        if not CHROMIUM.exists() and not browser_required():
            item.add_marker(skip)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_finish(session) -> None:
    """Carry xdist's ``@browser`` group suffix into pytest 9.2's structured node ids."""
    # pytest-xdist 3.8 groups tests by rewriting ``item._nodeid``, which pytest 9.2 no longer
    # reads, so ``--dist loadgroup`` silently stops grouping (pytest-dev/pytest-xdist#1386).
    # Remove this once xdist ships the fix.
    for item in session.items:
        legacy = item.__dict__.get("_nodeid")
        current = getattr(item, "_id", None)
        if not legacy or current is None or not item.path.is_relative_to(BROWSER_DIR):
            continue
        if str(current) != legacy:
            item._id = type(current).parse(legacy)


@dataclass
class LiveServer:
    """A running app: its base URL and the Flask app behind it."""

    url: str
    app: Flask


@pytest.fixture
def live_server_factory(tmp_path) -> Iterator[Callable[..., LiveServer]]:
    """Start live servers with CSRF on, each on a fresh SQLite file; stop them afterwards."""
    running = []

    def start(**overrides) -> LiveServer:
        path = tmp_path / f"browser-{len(running)}.db"
        app = make_test_app(f"sqlite:///{path}", WTF_CSRF_ENABLED=True, **overrides)
        with app.app_context():
            db.create_all()
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        running.append((server, thread, app))
        return LiveServer(url=f"http://127.0.0.1:{server.server_port}", app=app)

    yield start
    for server, thread, app in running:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()
        with app.app_context():
            db.engine.dispose()


@pytest.fixture
def live_server(live_server_factory) -> LiveServer:
    """A live server with the test settings."""
    return live_server_factory()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Headless Chromium, shared by the whole session."""
    if not CHROMIUM.exists():
        pytest.fail(f"{MISSING_CHROMIUM} (OUTREACH_REQUIRE_BROWSER=1)", pytrace=False)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser) -> Iterator[Page]:
    """A fresh tablet-sized touch page with its own cookies."""
    context = browser.new_context(viewport=TABLET, has_touch=True)
    context.set_default_timeout(5_000)
    tab = context.new_page()
    yield tab
    context.close()


def make_user_in(
    app: Flask, role: str, username: str, password: str, must_change_password: bool = False
) -> None:
    """Add a user to the live server's database."""
    with app.app_context():
        factories.make_user(
            role=role,
            username=username,
            password=password,
            must_change_password=must_change_password,
        )
        db.session.commit()


def seen_before(app: Flask, username: str, supplies: dict | None = None) -> int:
    """Add a participant met once by the user at their first site; return the participant's id.

    ``supplies`` maps item names to the packs handed out then.
    """
    from outreach.supplies.models import SupplyItem

    with app.app_context():
        worker = db.session.scalar(
            db.select(factories.User).where(factories.User.username == username)
        )
        items = {
            db.session.scalar(db.select(SupplyItem).where(SupplyItem.name == name)): packs
            for name, packs in (supplies or {}).items()
        }
        participant = factories.make_participant()
        factories.make_encounter(worker, worker.sites[0], participant, supplies=items)
        db.session.commit()
        return participant.id


def log_in(page: Page, base_url: str, username: str, password: str) -> None:
    """Fill in and send the login form."""
    page.goto(f"{base_url}/auth/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in", exact=True).click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def assert_accessible(page: Page) -> None:
    """Fail with every axe-core violation on the page: rule, impact and targets."""
    violations = Axe().run(page).response["violations"]
    lines = [
        f"{violation['id']} ({violation['impact']}): {', '.join(map(str, node['target']))}"
        for violation in violations
        for node in violation["nodes"]
    ]
    assert not lines, f"axe found problems on {page.url}:\n" + "\n".join(lines)


FIND_SMALL_TARGETS = """([selector, minimum]) => {
  const small = [];
  const shown = (el) => {
    const style = getComputedStyle(el);
    return el.getClientRects().length > 0 && style.visibility !== "hidden";
  };
  const describe = (el) => {
    const label = el.labels && el.labels.length ? el.labels[0].innerText : "";
    const name = (el.innerText || label || el.name || el.id || "").trim().slice(0, 40);
    const classes = (el.getAttribute("class") || "").trim();
    return el.tagName.toLowerCase() + (classes ? "." + classes.split(/\\s+/).join(".") : "")
      + (name ? ` "${name}"` : "");
  };
  for (const el of document.body.querySelectorAll(selector)) {
    if (el.type === "hidden" || !shown(el)) continue;
    let box = el.getBoundingClientRect();
    let what = "";
    if ((el.type === "checkbox" || el.type === "radio")
        && (box.width < minimum - 0.5 || box.height < minimum - 0.5)) {
      // A small box is fine when its label, which takes the tap too, is big enough.
      const label = el.closest("label") || (el.labels && el.labels[0]);
      box = label ? label.getBoundingClientRect() : box;
      what = label ? "label " : "no label, box ";
    }
    if (box.width < minimum - 0.5 || box.height < minimum - 0.5) {
      small.push(`${describe(el)}: ${what}${Math.round(box.width)}×${Math.round(box.height)}`);
    }
  }
  return small;
}"""


def assert_touch_targets(page: Page) -> None:
    """Fail listing every visible control under 44×44 CSS px (a checkbox or radio: its label)."""
    small = page.evaluate(FIND_SMALL_TARGETS, [TOUCH_SELECTOR, MIN_TARGET])
    assert not small, f"Touch targets under {MIN_TARGET}px on {page.url}:\n" + "\n".join(small)


#: WCAG 1.4.11: a focus ring needs 3:1 against the colours next to it.
MIN_RING_CONTRAST = 3.0
FOCUS_RING = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  // A date field takes several Tabs (day, month, year): the same element again is no new stop.
  if (el === window.lastFocusStop) return { stop: null };
  window.lastFocusStop = el;
  window.seenFocusStops = window.seenFocusStops || new WeakSet();
  if (window.seenFocusStops.has(el)) return null;
  window.seenFocusStops.add(el);
  // A see-through control (a ruler chip's radio) has its ring drawn on its label.
  const host = getComputedStyle(el).opacity === "0" ? el.closest("label") || el : el;
  const style = getComputedStyle(host);
  const rgba = (text) => {
    const v = (text.match(/[\\d.]+/g) || []).map(Number);
    return [v[0], v[1], v[2], v.length > 3 ? v[3] : 1];
  };
  const luminance = (rgb) => {
    const [r, g, b] = rgb.map((x) => {
      x /= 255;
      return x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const contrast = (a, b) => {
    const [high, low] = [luminance(a), luminance(b)].sort((x, y) => y - x);
    return (high + 0.05) / (low + 0.05);
  };
  const backdrop = (start) => {
    const layers = [];
    for (let e = start; e; e = e.parentElement) {
      const colour = rgba(getComputedStyle(e).backgroundColor);
      if (colour[3] > 0) layers.push(colour);
      if (colour[3] >= 1) break;
    }
    return layers.reverse().reduce(
      (under, [r, g, b, a]) => [r * a + under[0] * (1 - a), g * a + under[1] * (1 - a),
                                b * a + under[2] * (1 - a)], [255, 255, 255]);
  };
  const width = parseFloat(style.outlineWidth) || 0;
  const labelledBy = document.getElementById(el.getAttribute("aria-labelledby"));
  const label = labelledBy ? labelledBy.textContent : el.getAttribute("aria-label");
  const name = (label || el.innerText || el.name || el.id || "").trim().slice(0, 40);
  const stop = `${el.tagName.toLowerCase()} "${name}"`;
  if (style.outlineStyle === "none" || width < 2) return { stop, ratio: 0 };
  // What is behind the ring on each side: the gap of the offset and the ring's outer edge.
  const reach = (parseFloat(style.outlineOffset) || 0) + width / 2;
  const box = host.getBoundingClientRect();
  const middleX = (box.left + box.right) / 2;
  const middleY = (box.top + box.bottom) / 2;
  const points = [[box.left - reach, middleY], [box.right + reach, middleY],
                  [middleX, box.top - reach], [middleX, box.bottom + reach]];
  const ring = rgba(style.outlineColor);
  let ratio = Infinity;
  for (const [x, y] of points) {
    if (x < 0 || y < 0 || x >= innerWidth || y >= innerHeight) continue;
    const behind = document.elementsFromPoint(x, y).find((e) => e !== host && !host.contains(e));
    if (behind) ratio = Math.min(ratio, contrast(ring, backdrop(behind)));
  }
  return { stop, ratio: Number.isFinite(ratio) ? ratio : null };
}"""


def focus_ring_contrasts(page: Page, limit: int = 80) -> list[tuple[str, float | None]]:
    """Tab through the page from the top; return each stop with its focus ring's contrast."""
    page.evaluate(
        "() => { document.activeElement.blur(); window.seenFocusStops = window.lastFocusStop"
        " = null; }"
    )
    rings = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        found = page.evaluate(FOCUS_RING)
        if found is None:
            break
        if found["stop"] is not None:
            rings.append((found["stop"], found["ratio"]))
    return rings


def assert_focus_rings(page: Page) -> None:
    """Fail listing every keyboard stop whose focus ring is missing or under 3:1 around it."""
    weak = [
        f"{stop}: {ratio:.2f}:1"
        for stop, ratio in focus_ring_contrasts(page)
        if ratio is not None and ratio < MIN_RING_CONTRAST
    ]
    assert not weak, f"Focus rings under {MIN_RING_CONTRAST}:1 on {page.url}:\n" + "\n".join(weak)


def assert_no_horizontal_scroll(page: Page) -> None:
    """Fail when the page is wider than the window."""
    width, window = page.evaluate(
        "() => [document.scrollingElement.scrollWidth, window.innerWidth]"
    )
    assert width <= window, f"{page.url} scrolls sideways: {width}px in a {window}px window"
