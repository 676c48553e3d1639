"""`python -m reference_app.serve --host H --port N`: the reference app under uvicorn, without the
modules its libraries import only because they are installed.

The app runs from the project's venv, which also holds Bugsink (Django) and the CLI's own tools
(rich, pygments). sentry-sdk's Spotlight imports Django whenever it is importable, httpx's
command line imports rich: ~13 MB of every app process, never used. A `None` in `sys.modules`
makes `import x` raise ImportError (Python's import protocol), which both libraries expect when
the package is absent. Only this launcher does it: code that imports `reference_app.main`
(tests, tools) keeps every module.
"""

from __future__ import annotations

import argparse
import sys

UNUSED = ("django", "rich", "pygments")


def keep_out() -> None:
    """Make importing the `UNUSED` modules fail in this process, as if not installed."""
    for name in UNUSED:
        sys.modules.setdefault(name, None)  # type: ignore[arg-type]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m reference_app.serve")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    keep_out()  # before any library could import them
    import uvicorn

    uvicorn.run("reference_app.main:app", host=args.host, port=args.port)


if __name__ == "__main__":
    main()
