"""Small-cell suppression: no hidden count can be worked out from the total and the rest."""

from outreach.reports.model import SUPPRESSED, hidden

THRESHOLD = 11


def test_counts_from_one_to_ten_are_hidden_and_zeros_and_large_ones_are_not():
    cells = {"woman": 3, "man": 4, "trans_woman": 0, "nonbinary": 11, "declined": 40}
    assert hidden(cells, THRESHOLD) == {
        "woman": SUPPRESSED,
        "man": SUPPRESSED,
        "trans_woman": 0,
        "nonbinary": 11,
        "declined": 40,
    }


def test_a_lone_small_count_takes_the_smallest_non_zero_count_with_it():
    cells = {"woman": 14, "man": 3, "trans_man": 0, "declined": 12}
    assert hidden(cells, THRESHOLD) == {
        "woman": 14,
        "man": SUPPRESSED,
        "trans_man": 0,
        "declined": SUPPRESSED,
    }


def test_a_lone_small_count_takes_a_zero_when_nothing_else_is_counted():
    cells = {"woman": 0, "man": 3, "other": 0}
    assert hidden(cells, THRESHOLD) == {"woman": SUPPRESSED, "man": SUPPRESSED, "other": 0}


def test_nothing_small_hides_nothing():
    cells = {"woman": 14, "man": 0, "declined": 11}
    assert hidden(cells, THRESHOLD) == cells
