"""Security test fixtures: a two-factor clock that stands still unless a test moves it."""

from datetime import UTC, datetime, timedelta

import pytest

from outreach.auth import mfa


class Clock:
    """The time two-factor login sees: ten seconds into a time step, moved by whole steps."""

    def __init__(self):
        seconds = int(datetime.now(UTC).timestamp())
        start = seconds - seconds % mfa.STEP_SECONDS + 10
        self.now = datetime.fromtimestamp(start, UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, steps: int = 1) -> None:
        """Move on by whole time steps (30 seconds each)."""
        self.now += timedelta(seconds=mfa.STEP_SECONDS * steps)


@pytest.fixture(autouse=True)
def clock(monkeypatch) -> Clock:
    """Freeze two-factor time so a code never turns over in the middle of a test."""
    frozen = Clock()
    monkeypatch.setattr("outreach.auth.mfa.utcnow", frozen)
    return frozen
