"""One process of the concurrency and crash suites: ``python -m tests.concurrency.driver ROLE``.

Roles: ``run`` is ``dunning run`` exactly as the command line runs it; ``sync`` is ``dunning sync``; ``worker`` is
what the huey worker does (the daily run and the drain, each under its lease, ``connector.jobs``); ``decide`` only
runs the rules (queues today's steps), ``drain`` only drains the outbox. The world's settings come from the
environment (``tests.concurrency.world``). The adapters' own call budgets are lifted: what is under test is who
sends, not the providers' rate limits.
"""

from __future__ import annotations

import os
import sys

from connector.ports import RateLimit
from connector.registry import ADAPTERS


def main(role: str) -> int:
    for provider in os.environ.get("DUNNING_WORLD_PROVIDERS", "").split(","):
        if provider in ADAPTERS:
            ADAPTERS[provider].limits = (RateLimit(100_000, 60),)
    if role in ("run", "sync"):
        from connector.cli import app

        try:
            app([role], standalone_mode=False)
        except SystemExit as exc:
            return int(exc.code or 0)
        return 0
    from connector import jobs, outbox
    from connector.runtime import Runtime
    from connector.settings import Settings
    from connector.storage import repos

    rt = Runtime(Settings())
    with rt.sessions() as s:
        org_id = repos.find_organisation(s, os.environ["DUNNING_ORG"])
    assert org_id is not None, "the world has no organisation"
    if role == "worker":
        jobs.with_lease(rt, org_id, "dunning", lambda: jobs._checked_run(rt, org_id, rt.today(org_id)))
        jobs.with_lease(rt, org_id, "outbox", lambda: outbox.drain(rt, org_id))
    elif role == "decide":
        jobs._checked_run(rt, org_id, rt.today(org_id))
    elif role == "drain":
        outbox.drain(rt, org_id)
    else:
        sys.stderr.write(f"unknown role {role}\n")
        return 2
    rt.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
