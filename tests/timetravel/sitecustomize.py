"""The suite-wide clock switch: with ``DUNNING_TEST_NOW`` set, every Python process of a test run lives on that day.

Put this folder on ``PYTHONPATH`` and set ``DUNNING_TEST_NOW`` to an ISO instant with its offset (for example
``2028-02-29T09:30:00+01:00``); Python imports this module at interpreter start, before any test or command runs,
and starts ``time_machine.travel(..., tick=True)``. The first process turns the instant into an offset from the
real clock and exports it as ``DUNNING_TEST_CLOCK_OFFSET``, so pytest, its threads and every subprocess it starts
(CLI runs, gunicorn, sandboxes) are moved by the same amount and agree on "now". Sleeps and the monotonic clock
are left alone. ``./scripts/test`` uses it to run the date-sensitive suites again on other days; without
``DUNNING_TEST_NOW`` this module does nothing. A switch that cannot do its job stops the interpreter instead of
letting a run pass on the real date.
"""

from __future__ import annotations

import os
import sys
from typing import NoReturn

NOW_VARIABLE = "DUNNING_TEST_NOW"
OFFSET_VARIABLE = "DUNNING_TEST_CLOCK_OFFSET"


def _stop(message: str) -> NoReturn:
    # SystemExit while site imports this module is a fatal error with a traceback; leave quietly instead.
    sys.stderr.write(message + "\n")
    sys.stderr.flush()
    os._exit(2)


def _start() -> None:
    destination = os.environ.get(NOW_VARIABLE, "").strip()
    if not destination:
        return
    try:
        import time
        from datetime import datetime

        import time_machine
    except ImportError as error:
        _stop(f"{NOW_VARIABLE} is set but time-machine is not installed here ({error}): unset it")
    try:
        target = datetime.fromisoformat(destination)
    except ValueError:
        _stop(f"{NOW_VARIABLE}={destination!r} is not an ISO date-time such as 2028-02-29T09:30:00+01:00")
    if target.tzinfo is None:
        _stop(f"{NOW_VARIABLE}={destination!r} needs a UTC offset, such as +01:00")
    real_now = time.time()  # not yet travelling: the machine's clock
    offset = os.environ.get(OFFSET_VARIABLE)
    if offset is None:
        offset = repr(target.timestamp() - real_now)
        os.environ[OFFSET_VARIABLE] = offset  # inherited by every subprocess: one offset for the whole run
    moved = datetime.fromtimestamp(real_now + float(offset), tz=target.tzinfo)
    traveller = time_machine.travel(moved, tick=True)
    traveller.start()
    globals()["_traveller"] = traveller  # kept alive for the life of the interpreter


_start()
