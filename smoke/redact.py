"""Keeping secret values out of every line the smoke suite prints or writes.

A `Redactor` owns the secret values of one run (the secret stack outputs, passwords inside any
URL, env values whose name looks secret) and masks them in any text; `redact_report` applies it
to a pytest report before the terminal, `--junitxml` or any other plugin sees it.

>>> r = Redactor(["s3cr3t-pw"])
>>> r.redact("auth failed for postgresql://app:s3cr3t-pw@127.0.0.1:5432/db (s3cr3t-pw)")
'auth failed for postgresql://***@127.0.0.1:5432/db (***)'
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

if TYPE_CHECKING:
    from stacks.contract import StackOutputs

MASK = "***"
# Shorter values ("0", "us") would mask innocent text; a real secret is never this short.
MIN_SECRET_LEN = 4
# The secret entries of the local `backup` output: the archiver's key and the admin's URL.
BACKUP_SECRETS = ("access_key_id", "secret_access_key", "admin_url")
_SECRET_NAME = re.compile(
    r"KEY|SECRET|TOKEN|PASSWORD|PASSPHRASE|CREDENTIAL|DSN|DATABASE_URL|REDIS_URL", re.IGNORECASE
)
# `PULUMI_CONFIG_PASSPHRASE_FILE=/path`: a location, not the secret itself.
_LOCATION_NAME = re.compile(r"_(FILE|PATH|DIR)$", re.IGNORECASE)
# scheme://userinfo@ ; greedy up to the last `@` before the path, so `p@ss` passwords go too.
_USERINFO = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)[^\s/?#'\"<>]+@", re.IGNORECASE)


def redact_url(url: str) -> str:
    """`url` (or any text) with the credentials of every URL in it replaced by `***`.

    >>> redact_url("postgresql://mentora_app:pw@127.0.0.1:54322/mentora")
    'postgresql://***@127.0.0.1:54322/mentora'
    >>> redact_url("redis://127.0.0.1:6390/0")
    'redis://127.0.0.1:6390/0'
    """
    return _USERINFO.sub(lambda m: f"{m.group('scheme')}{MASK}@", url)


def is_secret_name(name: str) -> bool:
    """Whether an env variable's name says its value is secret (`*_KEY`, `*_TOKEN`, `*_DSN`...).

    >>> is_secret_name("AWS_SECRET_ACCESS_KEY"), is_secret_name("AWS_REGION")
    (True, False)
    """
    return bool(_SECRET_NAME.search(name)) and not _LOCATION_NAME.search(name)


def url_secrets(url: str) -> list[str]:
    """The password of a URL as written and decoded; the user name when it stands alone
    (`https://TOKEN@host`), since providers put keys there. A named user is not a secret."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return []
    found = [parts.password] if parts.password else []
    if parts.username and parts.password is None:
        found.append(parts.username)
    return [v for s in found for v in dict.fromkeys((s, unquote(s)))]


class Redactor:
    """The set of secret values of one run; `redact(text)` masks each of them with `***`."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self._shown: dict[str, str] = {}
        self.add(*secrets)

    def add(self, *values: str | None, min_len: int = MIN_SECRET_LEN) -> None:
        """Treat each value as secret; a URL also gives up its password (as written and decoded)."""
        for value in values:
            if not value:
                continue
            parts = [value, *url_secrets(value)] if "://" in value else [value]
            self._secrets.update(p for p in parts if len(p) >= min_len)
        self._pattern = None

    def add_env(self, env: Mapping[str, str], min_len: int = MIN_SECRET_LEN) -> None:
        """Every value whose name looks secret, and the credentials inside any URL value.
        A caller's shell may hold `SOME_TOKEN=true`: pass a larger `min_len` for such maps."""
        for name, value in env.items():
            if is_secret_name(name):
                self.add(value, min_len=min_len)
            elif "://" in value:
                self.add(*url_secrets(value), min_len=min_len)

    def add_outputs(self, outputs: StackOutputs) -> None:
        """Every secret a stack's outputs carry: the URLs' credentials, the env's secret values
        (the app's and smoke's own), and the backup archiver's key and admin URL."""
        self.add(outputs.database_url, outputs.redis_url)
        self.add_env(outputs.env)
        self.add_env(outputs.smoke_env)
        self.add(*(str(outputs.backup.get(key) or "") for key in BACKUP_SECRETS))
        self.add(*url_secrets(outputs.storage_endpoint), *url_secrets(outputs.app_url or ""))

    def redact(self, text: str) -> str:
        """`text` with every known secret and every URL's userinfo replaced by `***`."""
        if self._secrets:
            if self._pattern is None:
                ordered = sorted(self._secrets, key=len, reverse=True)  # longest match wins
                self._pattern = re.compile("|".join(map(re.escape, ordered)))
                self._shown = {s: self._masked(s) for s in ordered}
            text = self._pattern.sub(lambda m: self._shown[m.group(0)], text)
        return redact_url(text)

    def _masked(self, secret: str) -> str:
        """What replaces `secret`: a URL keeps its host and path (`postgresql://***@h:5432/db`)
        unless another secret hides in them; anything else becomes `***`."""
        shown = redact_url(secret) if "://" in secret else MASK
        if shown == secret or any(s in shown for s in self._secrets if s != secret):
            return MASK
        return shown

    __call__ = redact

    def __contains__(self, value: object) -> bool:
        return value in self._secrets

    def __len__(self) -> int:
        return len(self._secrets)


@dataclass(frozen=True)
class RedactedCrash:
    """Where and why a check failed, masked (pytest's `reprcrash`: junit's failure message)."""

    path: str
    lineno: int
    message: str


class RedactedRepr:
    """A failure's rendered text with secrets masked; prints like pytest's own repr."""

    def __init__(self, text: str, reprcrash: RedactedCrash | None) -> None:
        self.text = text
        self.reprcrash = reprcrash

    def toterminal(self, tw: Any) -> None:
        for line in self.text.splitlines():
            tw.line(line, red=line.startswith("E "), bold=line.startswith("E "))

    def __str__(self) -> str:
        return self.text


def redact_report(report: Any, redact: Redactor) -> None:
    """Mask secrets in a test or collect report in place: longrepr, sections, user properties."""
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:  # a skip: (path, lineno, reason)
        report.longrepr = (longrepr[0], longrepr[1], redact(str(longrepr[2])))
    elif isinstance(longrepr, str):
        report.longrepr = redact(longrepr)
    elif longrepr is not None:
        text = report.longreprtext
        crash = getattr(longrepr, "reprcrash", None)
        message = str(getattr(crash, "message", ""))
        if redact(text) != text or redact(message) != message:
            masked = (
                RedactedCrash(str(crash.path), int(crash.lineno), redact(message))
                if crash is not None
                else None
            )
            report.longrepr = RedactedRepr(redact(text), masked)
    report.sections = [(name, redact(content)) for name, content in report.sections]
    if hasattr(report, "user_properties"):
        report.user_properties = [
            (name, redact(value) if isinstance(value, str) else value)
            for name, value in report.user_properties
        ]
