"""Run pieces of work in real concurrent transactions, each in its own thread."""

import threading
import time
from collections.abc import Callable

from flask import Flask

from outreach.extensions import db


class Run:
    """What a thread did: its result or error, and when it started and finished."""

    result = None
    error: Exception | None = None
    started = finished = 0.0


def in_transaction(app: Flask, name: str, work: Callable, run: Run, gate: threading.Barrier):
    """Return a thread that runs work in its own app context and transaction, then commits."""

    def target() -> None:
        with app.app_context():
            gate.wait()
            run.started = time.monotonic()
            try:
                run.result = work()
                db.session.commit()
            except Exception as error:  # the test reports it
                db.session.rollback()
                run.error = error
            run.finished = time.monotonic()

    return threading.Thread(target=target, name=name)


def run_together(app: Flask, **works: Callable) -> dict[str, Run]:
    """Run each work in its own thread and transaction, starting together; wait for all."""
    db.session.commit()
    gate = threading.Barrier(len(works))
    runs = {name: Run() for name in works}
    threads = [in_transaction(app, name, work, runs[name], gate) for name, work in works.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    db.session.expire_all()
    return runs
