"""The page checks themselves: what assert_touch_targets and assert_focus_rings flag."""

import pytest

from tests.browser.conftest import assert_focus_rings, assert_touch_targets

SMALL_TARGETS = """
<main><label style="display: inline-flex; min-height: 48px"><input type="checkbox"></label></main>
<div role="dialog"><button style="width: 30px; height: 30px">OK</button></div>
"""
WEAK_RING = """
<style>:focus-visible { outline: 3px solid #1a5fb4; outline-offset: 2px; }</style>
<header style="background: #073f38; padding: 20px">
  <a href="#top" style="color: #fff">Home</a>
</header>
<main style="padding: 20px"><a href="#top">Fine</a></main>
"""


def test_touch_targets_outside_main_and_narrow_checkbox_labels_are_flagged(page):
    page.set_content(SMALL_TARGETS)
    with pytest.raises(AssertionError) as failure:
        assert_touch_targets(page)
    message = str(failure.value)
    assert 'button "OK": 30×30' in message
    assert "input: label " in message


def test_a_ring_too_close_to_its_background_is_flagged(page):
    page.set_content(WEAK_RING)
    with pytest.raises(AssertionError) as failure:
        assert_focus_rings(page)
    assert 'a "Home": 1.88:1' in str(failure.value)
    assert "Fine" not in str(failure.value)
