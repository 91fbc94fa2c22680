"""The dispatch board's counts kept up by the cards that moved (``dispatch_board.moved_counts``, what
the hub does after every reload) equal the counts of the whole new board, whatever moved."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from backend.domain.telephony.dispatch_board import counts, moved_counts

STATES = ["new", "dispatched", "acknowledged", "on_site", "on_hold"]
boards = st.dictionaries(st.sampled_from([str(i) for i in range(12)]), st.sampled_from(STATES))
# after: each order either takes a state, or leaves the board (None)
changes = st.dictionaries(st.sampled_from([str(i) for i in range(16)]), st.one_of(st.none(), st.sampled_from(STATES)))


def cards(board: dict[str, str]) -> dict[str, dict[str, str]]:
    return {key: {"id": key, "state": state} for key, state in board.items()}


@given(boards, changes)
def test_counts_kept_by_what_moved_equal_the_counts_of_the_new_board(board: dict[str, str],
                                                                     change: dict[str, str | None]) -> None:
    before = cards(board)
    after = dict(before)
    moved = []
    for key, state in change.items():
        new = None if state is None else {"id": key, "state": state}
        moved.append((before.get(key), new))
        if new is None:
            after.pop(key, None)
        else:
            after[key] = new
    kept = moved_counts(counts(before), moved)
    assert kept == counts(after)
    assert list(kept) == sorted(kept)  # the same order as a fresh count
    assert all(n > 0 for n in kept.values())


def test_an_empty_board_and_a_board_emptied() -> None:
    assert moved_counts({}, []) == {}
    board = cards({"1": "new", "2": "new"})
    assert moved_counts(counts(board), [(board["1"], None), (board["2"], None)]) == {}
