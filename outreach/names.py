"""Find things by the names people type: the exact name, else one that differs in case."""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Named(Generic[T]):
    """Values by name: an exact match first, else a match ignoring case if only one has it."""

    exact: dict[str, T]
    folded: dict[str, T | None]

    @classmethod
    def of(cls, pairs: Iterable[tuple[str, T]]) -> "Named[T]":
        """Index (name, value) pairs."""
        exact: dict[str, T] = {}
        folded: dict[str, T | None] = {}
        for name, value in pairs:
            exact[name] = value
            key = name.casefold()
            folded[key] = None if key in folded else value
        return cls(exact, folded)

    def get(self, name: str) -> T | None:
        """Return the value named, or None when no name (or several) match."""
        found = self.exact.get(name)
        return found if found is not None else self.folded.get(name.casefold())


def name_taken(name: str, named: Iterable[tuple[str, int]], own_id: int | None = None) -> bool:
    """Tell whether a record other than ``own_id`` has this name in any case.

    Compared in Python with casefold: SQLite's lower() folds only A to Z, so "Ärzte" and
    "ärzte" would pass a check in SQL and then break the unique constraint.
    """
    wanted = name.casefold()
    return any(other.casefold() == wanted and other_id != own_id for other, other_id in named)
