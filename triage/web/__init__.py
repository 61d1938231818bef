"""The review web UI: see why triage judged a mail as it did, correct it, send the reply.

`create_app(settings)` builds the FastAPI application; `triage serve` runs it under uvicorn.
It reads the same database as the worker and writes only reviews, users' last login and the
status of a reply it sends.
"""

from triage.web.app import create_app

__all__ = ["create_app"]
