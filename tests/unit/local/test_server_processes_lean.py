"""The long-running processes the local stack starts import no Pulumi: the SDK (and gRPC, which
it loads) is ~40 MB of resident memory a server never uses (docs/review.md, memory per stack)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from devtools.project import REPO


@pytest.mark.parametrize(
    "module", ["components.local.s3_process", "components.local.backup_daemon"]
)
def test_a_server_process_imports_no_pulumi(module: str) -> None:
    probe = (
        f"import sys, {module}; print(sorted(m for m in ('pulumi', 'grpc') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "[]"
