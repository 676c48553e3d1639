"""reference_app/serve.py: the app's process never loads the modules its libraries import only
because they are installed (Django, rich, pygments), and the app still loads without them."""

from __future__ import annotations

import subprocess
import sys

from devtools.project import REPO

PROBE = """
import sys
from reference_app.serve import UNUSED, keep_out
keep_out()
import httpx, sentry_sdk, sentry_sdk.spotlight, reference_app.main
from reference_app.errors import init_sentry
print(sorted(name for name in UNUSED if sys.modules.get(name) is not None))
"""


def test_the_app_loads_without_the_modules_it_never_uses() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_without_the_launcher_they_are_loaded() -> None:
    # What the launcher is for: sentry-sdk's Spotlight imports Django when it is installed.
    probe = "import sys, sentry_sdk.spotlight; print('django' in sys.modules)"
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert done.stdout.strip() == "True", done.stderr[-2000:]
