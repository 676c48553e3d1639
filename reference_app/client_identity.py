"""Who a rate limit counts a request against: something the caller cannot mint freely.

The peer address, unless the request names a client id (`X-Client-Id`, at most 64 characters of
`A-Za-z0-9_.:-`) signed with the stack's key (`X-Client-Signature`: hex HMAC-SHA256 of the id).
The key is derived from the stack's Redis password, which only the stack's own tooling (its
smoke gate, a trusted gateway) has (the password, not the whole URL: a proxy or another host
name in front of Redis must not change the key): rotating ids cannot mint fresh quota, and
an unsigned or huge id never becomes a Redis key.

>>> key = signing_key("redis://default:pw@127.0.0.1:6390/0")
>>> signed = {"x-client-id": "smoke-1", "x-client-signature": sign(key, "smoke-1")}
>>> client_key(signed, "1.2.3.4", key)
'id:smoke-1'
>>> client_key({"x-client-id": "smoke-1"}, "1.2.3.4", key)
'ip:1.2.3.4'
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from urllib.parse import unquote, urlsplit

MAX_ID = 64
_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")


def signing_key(redis_url: str) -> bytes:
    """The stack's client-id signing key: SHA-256 of `mentora-ratelimit:` + the password of its
    Redis URL (percent-decoded)."""
    password = unquote(urlsplit(redis_url).password or "")
    return hashlib.sha256(b"mentora-ratelimit:" + password.encode()).digest()


def sign(key: bytes, client_id: str) -> str:
    """`X-Client-Signature` for `client_id`."""
    return hmac.new(key, client_id.encode(), hashlib.sha256).hexdigest()


def client_key(headers: Mapping[str, str], peer: str, key: bytes) -> str:
    """The limiter key of a request: `id:<signed id>`, else `ip:<peer address>`."""
    client_id = headers.get("x-client-id") or ""
    signature = headers.get("x-client-signature") or ""
    if _ID.match(client_id) and signature and hmac.compare_digest(signature, sign(key, client_id)):
        return f"id:{client_id}"
    return f"ip:{peer}"
