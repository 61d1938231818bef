"""Health check of a triage container or unit: exit 0 healthy, 1 not (the reason on stderr).

  python healthcheck.py worker   the database answers, is migrated to head, and every configured
                                 mailbox was polled within 3 poll intervals (+2 min) — or has not
                                 been polled yet (a worker that just started)
  python healthcheck.py web [URL]  GET URL (default http://127.0.0.1:$port/health) answers 200

Uses only triage and the standard library, so it runs inside the image as a plain process.
"""

from __future__ import annotations

import sys
import urllib.request
from datetime import timedelta


def check_worker() -> str | None:
    """None when the worker side is healthy, else why not."""
    from triage.config import load_settings
    from triage.db import migrate, store
    from triage.db.engine import make_engine, safe_url, session_factory
    from triage.db.schema import utcnow

    settings = load_settings()
    try:
        if not migrate.is_current(settings.database_url):
            return f"database {safe_url(settings.database_url)} is not migrated: run `triage db upgrade`"
    except Exception as exc:  # noqa: BLE001 - unreachable: the first line says why, URL masked
        return f"database {safe_url(settings.database_url)} unreachable: {type(exc).__name__}"
    engine = make_engine(settings.database_url)
    try:
        with session_factory(engine)() as session:
            states = {s.mailbox: s for s in store.mailbox_states(session)}
    finally:
        engine.dispose()
    late = timedelta(seconds=3 * settings.poll_interval_seconds + 120)
    now = utcnow()
    stale = [m.name for m in settings.mailboxes
             if m.name in states and states[m.name].last_poll_at and now - states[m.name].last_poll_at > late]
    return f"not polled for over {late}: {', '.join(stale)}" if stale else None


def check_web(url: str | None) -> str | None:
    """None when GET /health answers 200, else why not."""
    if url is None:
        from triage.config import load_settings

        url = f"http://127.0.0.1:{load_settings().web.port}/health"
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - a fixed local URL
            return None if response.status == 200 else f"{url} answered {response.status}"
    except Exception as exc:  # noqa: BLE001
        return f"{url}: {exc}"


def main(argv: list[str]) -> int:
    what = argv[1] if len(argv) > 1 else "worker"
    if what == "worker":
        problem = check_worker()
    elif what == "web":
        problem = check_web(argv[2] if len(argv) > 2 else None)
    else:
        print(f"usage: {argv[0]} worker|web [URL]", file=sys.stderr)
        return 2
    if problem:
        print(f"unhealthy: {problem}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
