"""One-time setup of a Bugsink data dir, in ONE Python process (each `bugsink-manage` call would
start Django again): both databases' migrations (from the migrated template when this machine has
one: bugsink_template.py), a superuser, a full-access API token.

Run by the error tracker provider at create only: `python -m components.local.bugsink_setup
<data_dir>` with the superuser password on stdin; prints `{"token": ..., "migrate_s": ...,
"snappea_s": ..., "template": bool}` on stdout (a pipe to the provider, never a log).
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

SETTINGS_MODULE = "bugsink_conf"  # bugsink_conf.py in the data dir
ADMIN_USER = "admin"


def main(data_dir: str) -> None:
    password = sys.stdin.readline().strip()
    if not password:
        raise SystemExit("bugsink_setup: pass the superuser password on stdin")
    from components.local import bugsink_template

    seeded = bugsink_template.copy_into(Path(data_dir))
    sys.path.insert(0, data_dir)
    os.environ["DJANGO_SETTINGS_MODULE"] = SETTINGS_MODULE
    import django  # type: ignore[import-untyped]
    from django.core.management import call_command  # type: ignore[import-untyped]
    from django.db import connections  # type: ignore[import-untyped]

    django.setup()
    started = time.monotonic()
    call_command("migrate", verbosity=0, interactive=False)
    migrated = time.monotonic()
    call_command("migrate", "snappea", database="snappea", verbosity=0, interactive=False)
    snappea = time.monotonic()
    if not seeded:  # before the superuser and token exist: the template holds no secret
        connections.close_all()
        bugsink_template.store(Path(data_dir))

    from bsmain.models import AuthToken  # type: ignore[import-untyped]
    from django.contrib.auth import get_user_model  # type: ignore[import-untyped]

    get_user_model().objects.create_superuser(ADMIN_USER, "admin@localhost.invalid", password)
    token = AuthToken.create_full_access().token
    json.dump(
        {
            "token": token,
            "migrate_s": round(migrated - started, 2),
            "snappea_s": round(snappea - migrated, 2),
            "template": seeded,
        },
        sys.stdout,
    )


if __name__ == "__main__":
    main(sys.argv[1])
