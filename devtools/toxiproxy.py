"""A typed client for Toxiproxy's HTTP API and a helper that runs the server for a test.

The API follows Shopify/toxiproxy's README ("HTTP API": endpoints, proxy and toxic fields, the
attributes of each toxic) and api.go at v2.12.0 (status codes: 201 on proxy create, 200 on toxic
create, 204 on deletes and /reset; errors are `{"error": ..., "status": ...}`).

>>> with ToxiproxyServer(toxiproxy_binary()) as server:  # doctest: +SKIP
...     with server.client.proxy("redis", upstream="127.0.0.1:6390") as proxy:
...         with server.client.toxic(proxy.name, latency(100, jitter_ms=20)):
...             ...  # connect to 127.0.0.1:<proxy.port>: every answer is ~100 ms late
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import httpx

from devtools.ports import free_port

VERSION = "v2.12.0"
HOST = "127.0.0.1"
Stream = Literal["upstream", "downstream"]


class ToxiproxyError(RuntimeError):
    """The Toxiproxy server refused a request or could not be reached."""


@dataclass(frozen=True)
class Proxy:
    """One proxy as the server reports it: clients connect to `listen`, it forwards to
    `upstream`."""

    name: str
    listen: str
    upstream: str
    enabled: bool = True

    @property
    def port(self) -> int:
        """The port clients connect to (the server picks it when created with port 0)."""
        return int(self.listen.rsplit(":", 1)[1])

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Proxy:
        return cls(data["name"], data["listen"], data["upstream"], bool(data.get("enabled", True)))


@dataclass(frozen=True)
class Toxic:
    """A fault applied to one direction (`stream`) of a proxy's links; `downstream` is
    server -> client, `upstream` client -> server (README "Toxic fields")."""

    type: str
    attributes: dict[str, int] = field(default_factory=dict)
    stream: Stream = "downstream"
    toxicity: float = 1.0
    name: str = ""

    def body(self) -> dict[str, Any]:
        """The JSON body of `POST /proxies/{proxy}/toxics`."""
        return {
            "name": self.name or f"{self.type}_{self.stream}",
            "type": self.type,
            "stream": self.stream,
            "toxicity": self.toxicity,
            "attributes": self.attributes,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Toxic:
        return cls(
            type=data["type"],
            attributes=dict(data.get("attributes") or {}),
            stream=data.get("stream", "downstream"),
            toxicity=float(data.get("toxicity", 1.0)),
            name=data["name"],
        )


def latency(latency_ms: int, jitter_ms: int = 0, stream: Stream = "downstream") -> Toxic:
    """Delay all data by `latency_ms` +/- `jitter_ms`."""
    return Toxic("latency", {"latency": latency_ms, "jitter": jitter_ms}, stream)


def timeout(timeout_ms: int = 0, stream: Stream = "downstream") -> Toxic:
    """Drop all data; close the connection after `timeout_ms` (0: never, a blackhole)."""
    return Toxic("timeout", {"timeout": timeout_ms}, stream)


def reset_peer(timeout_ms: int = 0, stream: Stream = "downstream") -> Toxic:
    """Reset the connection (TCP RST) at once or after `timeout_ms`."""
    return Toxic("reset_peer", {"timeout": timeout_ms}, stream)


def bandwidth(rate_kb_s: int, stream: Stream = "downstream") -> Toxic:
    """Limit the link to `rate_kb_s` kilobytes per second."""
    return Toxic("bandwidth", {"rate": rate_kb_s}, stream)


def slow_close(delay_ms: int, stream: Stream = "downstream") -> Toxic:
    """Delay closing the socket by `delay_ms`."""
    return Toxic("slow_close", {"delay": delay_ms}, stream)


def limit_data(limit_bytes: int, stream: Stream = "downstream") -> Toxic:
    """Close the connection once `limit_bytes` have passed."""
    return Toxic("limit_data", {"bytes": limit_bytes}, stream)


class ToxiproxyClient:
    """Owns one HTTP connection pool to a Toxiproxy server's API (every call has a timeout)."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout_s: float = 5.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout_s, transport=transport)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ToxiproxyClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _call(self, method: str, path: str, *, expect: int, body: Any = None) -> Any:
        try:
            response = self._http.request(method, path, json=body)
        except httpx.HTTPError as exc:
            raise ToxiproxyError(
                f"toxiproxy: {method} {self.base_url}{path} failed ({type(exc).__name__}: {exc}); "
                "is the server running? (ToxiproxyServer starts one)"
            ) from None
        if response.status_code != expect:
            try:
                detail = response.json().get("error", response.text)
            except ValueError:
                detail = response.text.strip()
            raise ToxiproxyError(
                f"toxiproxy: {method} {path} answered {response.status_code}: {detail}"
            )
        return response.json() if response.content else None

    def version(self) -> str:
        """The server's version, e.g. `2.12.0` (`GET /version` answers JSON since v2.6)."""
        response = self._http.get("/version")
        response.raise_for_status()
        try:
            return str(response.json()["version"])
        except (ValueError, KeyError, TypeError):
            return response.text.strip()

    def create_proxy(self, name: str, upstream: str, listen: str = f"{HOST}:0") -> Proxy:
        """Create a proxy; with port 0 in `listen` the server picks a free port."""
        body = {"name": name, "listen": listen, "upstream": upstream, "enabled": True}
        return Proxy.from_json(self._call("POST", "/proxies", expect=201, body=body))

    def get_proxy(self, name: str) -> Proxy:
        return Proxy.from_json(self._call("GET", f"/proxies/{name}", expect=200))

    def set_enabled(self, name: str, enabled: bool) -> Proxy:
        """Take a proxy down (`False`: its port refuses connections) or bring it back."""
        body = {"enabled": enabled}
        return Proxy.from_json(self._call("POST", f"/proxies/{name}", expect=200, body=body))

    def delete_proxy(self, name: str) -> None:
        self._call("DELETE", f"/proxies/{name}", expect=204)

    def toxics(self, proxy: str) -> list[Toxic]:
        return [
            Toxic.from_json(t) for t in self._call("GET", f"/proxies/{proxy}/toxics", expect=200)
        ]

    def add_toxic(self, proxy: str, toxic: Toxic) -> Toxic:
        body = toxic.body()
        return Toxic.from_json(
            self._call("POST", f"/proxies/{proxy}/toxics", expect=200, body=body)
        )

    def remove_toxic(self, proxy: str, name: str) -> None:
        self._call("DELETE", f"/proxies/{proxy}/toxics/{name}", expect=204)

    def reset(self) -> None:
        """Enable every proxy and remove every toxic."""
        self._call("POST", "/reset", expect=204)

    @contextmanager
    def proxy(self, name: str, upstream: str, listen: str = f"{HOST}:0") -> Iterator[Proxy]:
        """A proxy that is deleted on exit, whatever the block raised."""
        created = self.create_proxy(name, upstream, listen)
        try:
            yield created
        finally:
            self.delete_proxy(name)

    @contextmanager
    def toxic(self, proxy: str, toxic: Toxic) -> Iterator[Toxic]:
        """A toxic that is removed on exit, whatever the block raised."""
        added = self.add_toxic(proxy, toxic)
        try:
            yield added
        finally:
            self.remove_toxic(proxy, added.name)


def toxiproxy_binary() -> Path:
    """Where the pinned server binary is: `$TOXIPROXY_BIN`, else the tools cache."""
    explicit = os.environ.get("TOXIPROXY_BIN")
    if explicit:
        return Path(explicit)
    tools = os.environ.get("MENTORA_TOOLS_DIR") or str(Path.home() / ".cache" / "mentora-infra")
    return Path(tools) / f"toxiproxy-{VERSION}" / "bin" / "toxiproxy-server"


class ToxiproxyServer:
    """Owns one `toxiproxy-server` process on a free loopback port, from start to stop."""

    def __init__(self, binary: Path, *, port: int | None = None, start_deadline_s: float = 10.0):
        self.binary = binary
        self.port = port or free_port()
        self.url = f"http://{HOST}:{self.port}"
        self.start_deadline_s = start_deadline_s
        self._proc: subprocess.Popen[bytes] | None = None
        self._client: ToxiproxyClient | None = None

    @property
    def client(self) -> ToxiproxyClient:
        if self._client is None:
            raise ToxiproxyError("toxiproxy: the server is not started; call start() first")
        return self._client

    def start(self) -> ToxiproxyClient:
        """Start the server and wait until `GET /version` answers; return a client for it."""
        if not os.access(self.binary, os.X_OK):
            raise ToxiproxyError(
                f"toxiproxy: no executable server at {self.binary}; build it (go install "
                f"github.com/Shopify/toxiproxy/v2/cmd/server@{VERSION}) and set TOXIPROXY_BIN"
            )
        self._proc = subprocess.Popen(
            [str(self.binary), "-host", HOST, "-port", str(self.port)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env={**os.environ, "LOG_LEVEL": "warn"},
        )
        client = ToxiproxyClient(self.url, timeout_s=1.0)
        deadline = time.monotonic() + self.start_deadline_s
        while True:
            if self._proc.poll() is not None:
                err = self._proc.stderr.read().decode(errors="replace") if self._proc.stderr else ""
                client.close()
                raise ToxiproxyError(f"toxiproxy: server exited {self._proc.returncode}: {err}")
            try:
                client.version()
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    client.close()
                    self.stop()
                    raise ToxiproxyError(
                        f"toxiproxy: {self.url}/version did not answer within "
                        f"{self.start_deadline_s:.0f} s"
                    ) from None
                time.sleep(0.02)
        client.close()
        self._client = ToxiproxyClient(self.url)
        return self._client

    def stop(self) -> None:
        """Terminate the server (SIGKILL after 5 s); safe to call twice."""
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._proc is None:
            return
        if self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(timeout=5)
        if self._proc.stderr:
            self._proc.stderr.close()
        self._proc = None

    def __enter__(self) -> ToxiproxyServer:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()
