"""Which checkout a command acts on: the working tree it runs in (or `--repo`), never the
location of the installed package. A copied checkout whose `.venv` still points at the original
acts on itself: its pulumi and smoke children get its own code first on their path
(`Checkout.env`)."""

from __future__ import annotations

from pathlib import Path

from gate.runner import GateUsageError

MARKERS = ("Pulumi.yaml", "stacks/__main__.py", "gate/cli.py")


def is_checkout(folder: Path) -> bool:
    """Whether `folder` is the root of a mentora-infra checkout."""
    return all((folder / marker).is_file() for marker in MARKERS)


def checkout_root(start: Path, explicit: Path | None = None) -> Path:
    """The checkout to act on: `explicit` (`--repo`), else the nearest folder at or above
    `start` that is a checkout. `GateUsageError` naming the fix when there is none.

    >>> checkout_root(Path("/"))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    gate.runner.GateUsageError: / is not inside a mentora-infra checkout; ...
    """
    if explicit is not None:
        root = explicit.resolve()
        if not is_checkout(root):
            raise GateUsageError(
                f"--repo {explicit} is not a mentora-infra checkout (it lacks one of "
                f"{', '.join(MARKERS)}); pass the folder you cloned"
            )
        return root
    start = start.resolve()
    for folder in (start, *start.parents):
        if is_checkout(folder):
            return folder
    raise GateUsageError(
        f"{start} is not inside a mentora-infra checkout; run mentora-infra from the checkout "
        "(cd <checkout>) or pass --repo <checkout>"
    )
