"""Bugsink API tokens, in Bugsink's own Django settings (the data dir's bugsink_conf.py):
`python -m rotation.bugsink_tokens <data_dir> create` prints `{"token": ...}` on stdout (a pipe
to the rotation, never a log); `... keep` reads a token on stdin and deletes every other one,
printing `{"deleted": n}`."""

from __future__ import annotations

import json
import os
import sys


def main(data_dir: str, action: str) -> None:
    sys.path.insert(0, data_dir)
    os.environ["DJANGO_SETTINGS_MODULE"] = "bugsink_conf"
    import django  # type: ignore[import-untyped]

    django.setup()
    from bsmain.models import AuthToken  # type: ignore[import-untyped]

    if action == "create":
        json.dump({"token": AuthToken.create_full_access().token}, sys.stdout)
    elif action == "keep":
        keep = sys.stdin.readline().strip()
        if not keep:
            raise SystemExit("bugsink_tokens: pass the token to keep on stdin")
        deleted, _ = AuthToken.objects.exclude(token=keep).delete()
        json.dump({"deleted": deleted}, sys.stdout)
    else:
        raise SystemExit(f"bugsink_tokens: unknown action {action!r}; use create or keep")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
