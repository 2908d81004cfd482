"""Small-cell suppression: no hidden count can be worked out from the total and the rest."""

from outreach.reports.model import SUPPRESSED, hidden

THRESHOLD = 11


def test_small_counts_adding_up_to_the_threshold_are_hidden_alone():
    cells = {"woman": 5, "man": 6, "trans_woman": 0, "nonbinary": 11, "declined": 40}
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


def test_two_hidden_ones_are_not_left_to_be_worked_out_from_their_sum():
    cells = {"man": 20, "woman": 1, "trans_man": 0, "unknown": 1}
    shown = hidden(cells, THRESHOLD)
    assert shown == {"man": SUPPRESSED, "woman": SUPPRESSED, "trans_man": 0, "unknown": SUPPRESSED}


def test_counts_too_few_to_hide_each_other_are_all_hidden_zeros_included():
    cells = {"woman": 0, "man": 3, "other": 0}
    assert hidden(cells, THRESHOLD) == {"woman": SUPPRESSED, "man": SUPPRESSED, "other": SUPPRESSED}


def test_nothing_small_hides_nothing():
    cells = {"woman": 14, "man": 0, "declined": 11}
    assert hidden(cells, THRESHOLD) == cells


def test_whatever_is_hidden_adds_up_to_the_threshold_or_is_everything():
    for cells in (
        {"a": 1, "b": 2, "c": 30, "d": 0},
        {"a": 10, "b": 0, "c": 0},
        {"a": 4, "b": 4, "c": 4, "d": 100},
        {"a": 2, "b": 9, "c": 12},
    ):
        shown = hidden(cells, THRESHOLD)
        hidden_sum = sum(cells[code] for code, value in shown.items() if value == SUPPRESSED)
        everything = all(value == SUPPRESSED for value in shown.values())
        assert hidden_sum >= THRESHOLD or everything, (cells, shown)
