"""The Toxiproxy client speaks the server's published HTTP API.

Contract: Shopify/toxiproxy README.md ("HTTP API": endpoints, proxy fields, toxic fields, the
attributes of each toxic type) and api.go at v2.12.0 (POST /proxies answers 201, POST
/proxies/{proxy}/toxics 200, DELETE and POST /reset 204; an error is `{"error", "status"}` with
that status; GET /version is `{"version": ...}`).
"""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest

from devtools import toxiproxy as tp

Handler = Callable[[httpx.Request], httpx.Response]


class FakeToxiproxy:
    """Records requests and answers them the way api.go v2.12.0 does."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, object]] = []
        self.proxies: dict[str, dict[str, object]] = {}
        self.toxics: dict[str, dict[str, dict[str, object]]] = {}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else None
        self.requests.append((request.method, request.url.path, body))
        parts = request.url.path.strip("/").split("/")
        if parts == ["version"]:
            return httpx.Response(200, json={"version": "2.12.0"})
        if parts == ["reset"] and request.method == "POST":
            for toxics in self.toxics.values():
                toxics.clear()
            return httpx.Response(204)
        if parts == ["proxies"] and request.method == "POST":
            assert isinstance(body, dict)
            if body["name"] in self.proxies:
                return self._error("proxy already exists", 409)
            listen = str(body["listen"]).replace(":0", ":26379")  # the server picks the port
            self.proxies[body["name"]] = {**body, "listen": listen}
            self.toxics[body["name"]] = {}
            return httpx.Response(201, json=self.proxies[body["name"]])
        name = parts[1]
        if name not in self.proxies:
            return self._error("proxy not found", 404)
        if len(parts) == 2:
            if request.method == "DELETE":
                del self.proxies[name]
                return httpx.Response(204)
            if request.method == "POST":
                assert isinstance(body, dict)
                self.proxies[name].update(body)
            return httpx.Response(200, json={**self.proxies[name], "toxics": []})
        toxics = self.toxics[name]
        if len(parts) == 3 and request.method == "POST":
            assert isinstance(body, dict)
            toxics[str(body["name"])] = body
            return httpx.Response(200, json=body)
        if len(parts) == 3:
            return httpx.Response(200, json=list(toxics.values()))
        if parts[3] not in toxics:
            return self._error("toxic not found", 404)
        del toxics[parts[3]]
        return httpx.Response(204)

    @staticmethod
    def _error(message: str, status: int) -> httpx.Response:
        return httpx.Response(status, text=json.dumps({"error": message, "status": status}) + "\n")


@pytest.fixture
def fake() -> FakeToxiproxy:
    return FakeToxiproxy()


@pytest.fixture
def client(fake: FakeToxiproxy) -> tp.ToxiproxyClient:
    return tp.ToxiproxyClient("http://127.0.0.1:8474", transport=httpx.MockTransport(fake))


def test_create_proxy_posts_the_published_fields(
    client: tp.ToxiproxyClient, fake: FakeToxiproxy
) -> None:
    proxy = client.create_proxy("cache", upstream="127.0.0.1:6390")
    assert fake.requests == [
        (
            "POST",
            "/proxies",
            {
                "name": "cache",
                "listen": "127.0.0.1:0",
                "upstream": "127.0.0.1:6390",
                "enabled": True,
            },
        )
    ]
    assert proxy.port == 26379  # the port the server chose, read from its answer


def test_each_toxic_sends_its_documented_attributes(
    client: tp.ToxiproxyClient, fake: FakeToxiproxy
) -> None:
    client.create_proxy("db", upstream="127.0.0.1:5432")
    cases = [
        (tp.latency(100, jitter_ms=20), "latency", {"latency": 100, "jitter": 20}),
        (tp.timeout(0), "timeout", {"timeout": 0}),
        (tp.reset_peer(50), "reset_peer", {"timeout": 50}),
        (tp.bandwidth(1), "bandwidth", {"rate": 1}),
        (tp.slow_close(3000), "slow_close", {"delay": 3000}),
        (tp.limit_data(10, stream="upstream"), "limit_data", {"bytes": 10}),
    ]
    for toxic, kind, attributes in cases:
        added = client.add_toxic("db", toxic)
        method, path, body = fake.requests[-1]
        assert (method, path) == ("POST", "/proxies/db/toxics")
        assert body == {
            "name": f"{kind}_{toxic.stream}",
            "type": kind,
            "stream": toxic.stream,
            "toxicity": 1.0,
            "attributes": attributes,
        }
        assert added.name == f"{kind}_{toxic.stream}"
    assert [t.type for t in client.toxics("db")] == [kind for _, kind, _ in cases]


def test_context_managers_clean_up_when_the_block_raises(
    client: tp.ToxiproxyClient, fake: FakeToxiproxy
) -> None:
    with pytest.raises(RuntimeError, match="boom"):  # noqa: SIM117
        with client.proxy("app", upstream="127.0.0.1:3100") as proxy:
            with client.toxic(proxy.name, tp.latency(100)):
                raise RuntimeError("boom")
    assert ("DELETE", "/proxies/app/toxics/latency_downstream", None) in fake.requests
    assert fake.requests[-1] == ("DELETE", "/proxies/app", None)
    assert fake.proxies == {}


def test_an_api_error_names_status_and_the_servers_message(client: tp.ToxiproxyClient) -> None:
    client.create_proxy("cache", upstream="127.0.0.1:6390")
    with pytest.raises(tp.ToxiproxyError, match="answered 409: proxy already exists"):
        client.create_proxy("cache", upstream="127.0.0.1:6390")
    with pytest.raises(tp.ToxiproxyError, match="answered 404: toxic not found"):
        client.remove_toxic("cache", "latency_downstream")


def test_disable_and_reset(client: tp.ToxiproxyClient, fake: FakeToxiproxy) -> None:
    client.create_proxy("storage", upstream="127.0.0.1:9090")
    assert client.set_enabled("storage", False).enabled is False
    assert fake.requests[-1] == ("POST", "/proxies/storage", {"enabled": False})
    client.add_toxic("storage", tp.timeout())
    client.reset()
    assert fake.requests[-1] == ("POST", "/reset", None)
    assert client.toxics("storage") == []


def test_version_reads_the_json_answer(client: tp.ToxiproxyClient) -> None:
    assert client.version() == "2.12.0"


def test_an_unreachable_server_is_named_with_the_fix() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno 111] Connection refused", request=request)

    client = tp.ToxiproxyClient("http://127.0.0.1:1", transport=httpx.MockTransport(refuse))
    with pytest.raises(tp.ToxiproxyError, match="is the server running"):
        client.create_proxy("db", upstream="127.0.0.1:5432")


def test_binary_path_prefers_env_then_tools_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOXIPROXY_BIN", "/opt/toxi")
    assert str(tp.toxiproxy_binary()) == "/opt/toxi"
    monkeypatch.delenv("TOXIPROXY_BIN")
    monkeypatch.setenv("MENTORA_TOOLS_DIR", "/cache")
    assert str(tp.toxiproxy_binary()) == "/cache/toxiproxy-v2.12.0/bin/toxiproxy-server"


def test_server_without_binary_says_how_to_build_it(tmp_path: object) -> None:
    server = tp.ToxiproxyServer(tp.Path("/nonexistent/toxiproxy-server"))
    with pytest.raises(tp.ToxiproxyError, match="go install github.com/Shopify/toxiproxy"):
        server.start()
