"""Keeping secret values out of every line the smoke suite prints or writes."""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

_SECRET_NAME = re.compile(r"(KEY|SECRET|TOKEN|PASSWORD|DSN|DATABASE_URL|REDIS_URL)", re.IGNORECASE)
_USERINFO = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)[^/@\s]+@", re.IGNORECASE)
MASK = "***"


def redact_url(url: str) -> str:
    """A URL without its credentials: `postgresql://***@127.0.0.1:54322/mentora`.

    >>> redact_url("redis://default:pw@127.0.0.1:6390/0")
    'redis://***@127.0.0.1:6390/0'
    """
    return _USERINFO.sub(lambda m: f"{m.group('scheme')}{MASK}@", url)


def url_secrets(url: str) -> list[str]:
    """The password and user name parts of a URL (both hidden: some providers put keys there)."""
    parts = urlsplit(url)
    return [p for p in (parts.password, parts.username) if p and p != "default"]


class Redactor:
    """Owns the set of secret values of one run and masks them in any text."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: set[str] = set()
        self.add(*secrets)

    def add(self, *values: str) -> None:
        for value in values:
            # Short values (region names, "0") would mask innocent text; secrets are long.
            if value and len(value) >= 6:
                self._secrets.add(value)
                for part in url_secrets(value) if "://" in value else []:
                    if len(part) >= 6:
                        self._secrets.add(part)

    def add_env(self, env: dict[str, str]) -> None:
        """Every env value whose name says it is secret, and credentials inside any URL."""
        for name, value in env.items():
            if _SECRET_NAME.search(name):
                self.add(value)
            elif "://" in value:
                self.add(*url_secrets(value))

    def __call__(self, text: str) -> str:
        text = redact_url(text)
        for value in sorted(self._secrets, key=len, reverse=True):
            text = text.replace(value, MASK)
        return text

    def __contains__(self, value: str) -> bool:
        return value in self._secrets
