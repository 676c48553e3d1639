"""The S3 store's process: `python -m components.local.s3_process PORT DATA_DIR`.

moto's WSGI app behind a guard that answers 403 to unsigned requests (moto itself crashes with a
500 on an anonymous LIST/PUT) and to `/moto-api/*` (unauthenticated: it could dump every key or
switch IAM auth off), its changes journaled in DATA_DIR (components/local/s3_journal.py).

Kept apart from the provider (components/local/s3_server.py) so the long-running process never
imports Pulumi: that import alone is ~40 MB of every store's resident memory.
"""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path
from typing import Any

from components.local import processes
from components.local.s3_journal import LEGACY_SNAPSHOT, ObjectJournal, StoreDamaged

_XML = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>%s</Code><Message>%s</Message></Error>'
)
_DENIED = ("403 Forbidden", _XML % (b"AccessDenied", b"Access Denied"))
_PRESIGNED = (
    "501 Not Implemented",
    _XML % (b"NotImplemented", b"The local store (moto with IAM auth) cannot check presigned URLs"),
)


def _guard(app: Any, bootstrap_calls: int = 0) -> Any:
    """WSGI middleware: 403 for unsigned requests and for moto's own control API; until the
    provider's `bootstrap_calls` unauthenticated IAM calls are made, 503 for any other request
    (moto lets the first N requests through unchecked, whoever sends them: a client retrying
    with an old key, such as the backup archiver, would use them up)."""
    left = [bootstrap_calls]
    lock = threading.Lock()

    def guarded(environ: dict[str, Any], start_response: Any) -> Any:
        control_api = environ.get("PATH_INFO", "").startswith("/moto-api")
        auth = environ.get("HTTP_AUTHORIZATION", "")
        with lock:
            bootstrap = left[0] > 0
            if bootstrap and "Credential=bootstrap/" in auth:
                left[0] -= 1
                return app(environ, start_response)
        if bootstrap:
            body = _XML % (b"SlowDown", b"The local store is starting")
            start_response("503 Slow Down", [("Content-Type", "application/xml")])
            return [body]
        if auth and not control_api:
            return app(environ, start_response)
        presigned = "Signature=" in environ.get("QUERY_STRING", "")
        status, body = _PRESIGNED if presigned else _DENIED
        start_response(
            status, [("Content-Type", "application/xml"), ("Content-Length", str(len(body)))]
        )
        return [body]

    return guarded


def serve(port: int, data_dir: Path) -> None:
    """Run the guarded moto server on 127.0.0.1:`port` until SIGTERM (the store's process),
    its buckets saved in `data_dir`."""
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import run_simple

    os.environ.setdefault("MOTO_PORT", str(port))
    journal = ObjectJournal(data_dir)
    legacy = data_dir / LEGACY_SNAPSHOT
    if legacy.exists():  # never loaded: a pickle runs code when it is loaded
        sys.exit(
            f"storage: {legacy} is a store of the previous format (a pickle), not loaded; keep its "
            f"objects with `python -m components.local.s3_migrate {data_dir}` (only if you wrote "
            "it: loading a pickle runs the code inside), or move it aside and start empty with "
            f"`touch {journal.path}`"
        )
    if not journal.path.exists():  # made empty at create: the store's files are gone
        sys.exit(
            f"storage: {journal.path} is missing: the store lost its files; restore the data "
            f"dir from a backup, or start it empty with `touch {journal.path}`"
        )
    try:
        buckets, objects = journal.replay()
    except StoreDamaged as exc:
        sys.exit(str(exc))  # the last line of moto.log: the provider's start error quotes it
    print(f"storage: {buckets} bucket(s), {objects} object(s) from {journal.path}", flush=True)
    bootstrap_calls = int(os.environ.get("INITIAL_NO_AUTH_ACTION_COUNT", "0"))
    app = _guard(
        journal.after_changes(DomainDispatcherApplication(create_backend_app)), bootstrap_calls
    )
    run_simple(processes.HOST, port, app, threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: python -m components.local.s3_process PORT DATA_DIR")
    serve(int(sys.argv[1]), Path(sys.argv[2]))
