"""gunicorn settings for ``dunning serve`` (and ``gunicorn -c python:dashboard.gunicorn_conf dashboard.wsgi:app``).

Where the web app meets the network (docs/operations.md#start): threaded workers (``gthread``), so a slow client
holds one thread, never a whole worker, and a connection that sends nothing holds none; the app is loaded once in
the master before the workers fork (``preload_app``) and workers are never recycled on a request count (each
recycle would boot the app again under load). gunicorn's own lines (boot, workers, signals) go through the
connector's redacting handler at DUNNING_LOG_LEVEL, as JSON lines unless DUNNING_LOG_JSON is false, like
everything the app logs (``dashboard.wsgi``). ``dunning serve`` adds the address, worker and thread counts.
"""

from __future__ import annotations

from connector.logging import gunicorn_logconfig
from connector.settings import Settings

worker_class = "gthread"
threads = 8
preload_app = True
max_requests = 0  # never recycle on a request count
timeout = 30  # a worker whose main loop stops answering for this long is restarted
graceful_timeout = 30  # on SIGTERM: requests in flight get this long to finish
keepalive = 5
limit_request_line = 8190
limit_request_fields = 100

logconfig_dict = gunicorn_logconfig(Settings())


def post_fork(_server: object, _worker: object) -> None:
    """In each worker, just forked from the master that loaded the app: drop the database connections inherited
    from the master (they belong to its process) without closing them under it; each worker opens its own."""
    from dashboard.wsgi import app

    app.extensions["dunning"].runtime.engine.dispose(close=False)
