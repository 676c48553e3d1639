"""Time to live of a review stack: `72h`, `30m`, `90s`, `2d`; parsed once, refused with the fix.

>>> parse_ttl("72h")
259200.0
>>> format_left(5400)
'1h30m'
"""

from __future__ import annotations

import re

from review.errors import ReviewUsage

DEFAULT_TTL = "72h"
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
MAX_TTL_S = 90 * 86400
_TTL = re.compile(r"^([0-9]+(?:\.[0-9]+)?)([smhd])$")


def parse_ttl(text: str) -> float:
    """Seconds of `text` (a number and one of s, m, h, d); ReviewUsage naming --ttl otherwise."""
    match = _TTL.match(text.strip())
    seconds = float(match.group(1)) * UNITS[match.group(2)] if match else 0.0
    if not match or not 0 < seconds <= MAX_TTL_S:
        raise ReviewUsage(
            f"review: --ttl {text!r} is not a time to live; give a positive duration up to "
            f"90d with a unit, e.g. --ttl 72h, --ttl 30m, --ttl 90s"
        )
    return seconds


def format_left(seconds: float) -> str:
    """A short human duration (`2d3h`, `1h30m`, `45s`); `expired` at or below zero."""
    if seconds <= 0:
        return "expired"
    whole = int(seconds)
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d{hours}h"
    if hours:
        return f"{hours}h{minutes:02d}m"
    if minutes:
        return f"{minutes}m{secs:02d}s"
    return f"{secs}s"
