"""Smoke across a slow network (issue 13 item 4): every endpoint smoke uses behind Toxiproxy.

One proxy per server of the stack (Postgres, Redis, S3 store, app, Dev Server, Bugsink's API);
the stack's outputs (`pulumi stack output --json --show-secrets`) are saved with every URL and
env value that points at a server rewritten to its proxy (file 0600, deleted right after), and
`pytest smoke --outputs-file F` runs at +0, +50 and +100 ms per hop. A hop's latency is one
`latency` toxic on the downstream stream (server -> client), as docs/faults.md measured it: each
request/answer round trip on a link pays the added latency once.

>>> rewrite({"url": "postgresql://u:p@127.0.0.1:5432/db", "n": 1}, {5432: 40001})
{'url': 'postgresql://u:p@127.0.0.1:40001/db', 'n': 1}
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bench import model
from bench.cleanup import Cleanup
from bench.model import Measurement, Report
from bench.proc import SCRUB, BenchError
from bench.project import PORT_KEYS, BenchProject
from bench.smoke_report import label, load_checks, slowest
from devtools.toxiproxy import ToxiproxyClient, ToxiproxyServer, latency, toxiproxy_binary
from smoke.report import CheckResult

_ENDPOINT = re.compile(r"\b(127\.0\.0\.1|localhost):(\d+)\b")
_SECRET_NAME = re.compile(r"KEY|SECRET|TOKEN|PASSWORD|DSN", re.IGNORECASE)


def rewrite(value: Any, proxies: dict[int, int]) -> Any:
    """`value` (JSON data) with every `127.0.0.1:<port>` / `localhost:<port>` of a proxied
    port pointing at `127.0.0.1:<its proxy's port>`; other ports and values are kept."""
    if isinstance(value, dict):
        return {k: rewrite(v, proxies) for k, v in value.items()}
    if isinstance(value, list):
        return [rewrite(v, proxies) for v in value]
    if isinstance(value, str):

        def swap(match: re.Match[str]) -> str:
            port = int(match.group(2))
            return f"127.0.0.1:{proxies[port]}" if port in proxies else match.group(0)

        return _ENDPOINT.sub(swap, value)
    return value


def secret_values(value: Any, name: str = "") -> list[str]:
    """Values that must never be shown: those under a secret-looking name, and the passwords
    (or DSN keys) inside URLs.

    >>> secret_values({"env": {"AWS_SECRET_ACCESS_KEY": "abc", "X": "redis://u:pw@h:1/0"}})
    ['abc', 'pw']
    """
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in secret_values(v, str(k))]
    if isinstance(value, list):
        return [s for v in value for s in secret_values(v, name)]
    if not isinstance(value, str) or not value:
        return []
    if _SECRET_NAME.search(name) and "://" not in value:
        return [value]
    if "://" in value:
        try:
            parts = urlsplit(value)
        except ValueError:
            return []
        return [s for s in (parts.password or parts.username,) if s]
    return []


def _write_private(path: Path, data: Any) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(data, handle)


def _run(
    project: BenchProject, outputs_file: Path, report_path: Path
) -> tuple[float, list[CheckResult], str]:
    """One smoke run on the rewritten outputs: wall time, checks, and a note when it was red."""
    result = project.smoke_file(outputs_file, "--json-report", str(report_path))
    checks = load_checks(json.loads(report_path.read_text())) if report_path.exists() else []
    if result.returncode == 0:
        return result.seconds, checks, ""
    failed = ", ".join(label(c) for c in checks if c.failed) or "no check (setup)"
    return result.seconds, checks, f"RED (exit {result.returncode}), failed: {failed}"


def slow_network(
    report: Report, project: BenchProject, cleanup: Cleanup, workdir: Path, samples: int
) -> None:
    """Smoke through Toxiproxy at each latency of `model.NET_LATENCIES_MS`, `samples` times."""
    server = ToxiproxyServer(toxiproxy_binary())
    client = server.start()
    cleanup.push("stop Toxiproxy", server.stop)
    outputs_file = workdir / "outputs-proxied.json"
    cleanup.push("delete the proxied outputs file", lambda: outputs_file.unlink(missing_ok=True))
    try:
        proxies: dict[int, int] = {}
        for service in PORT_KEYS:
            port = project.port(service)
            proxies[port] = client.create_proxy(service, f"127.0.0.1:{port}").port
        raw = json.loads(project.checked(project.outputs(True), "pulumi stack output").output)
        SCRUB.add(*secret_values(raw))
        _write_private(outputs_file, rewrite(raw, proxies))
        del raw
        for ms in model.NET_LATENCIES_MS:
            _at_latency(report, project, client, outputs_file, workdir, ms, samples)
    finally:
        outputs_file.unlink(missing_ok=True)
        server.stop()


def _at_latency(
    report: Report,
    project: BenchProject,
    client: ToxiproxyClient,
    outputs_file: Path,
    workdir: Path,
    ms: int,
    samples: int,
) -> None:
    """`samples` runs with `ms` added to every proxy's downstream."""
    key = f"{model.NET_PREFIX}{ms}"
    wall = report.add(Measurement(key, model.REQUIRED[key]))
    worst = report.add(Measurement(f"{key}_slowest", f"+{ms} ms: slowest check", group="network"))
    total = report.add(Measurement(f"{key}_checks", f"+{ms} ms: sum of checks", group="network"))
    client.reset()
    if ms:
        for service in PORT_KEYS:
            client.add_toxic(service, latency(ms, stream="downstream"))
    names, reds = [], []
    for n in range(samples):
        seconds, checks, red = _run(project, outputs_file, workdir / f"net-{ms}-{n}.json")
        top = slowest(checks)
        if top is None:
            raise BenchError(f"smoke via Toxiproxy at +{ms} ms ran no check ({red})")
        wall.samples.append(seconds)
        worst.samples.append(top.duration_s)
        total.samples.append(sum(c.duration_s for c in checks))
        names.append(label(top))
        if red:
            reds.append(red)
    client.reset()
    direct = report.seconds(model.SMOKE)
    wall.note = f"slowest check: {names[-1]}"
    if direct is not None:
        wall.note += f"; healthy direct run (--stack local, no proxy) {direct:.2f} s"
    if reds:
        wall.note += f"; {len(reds)}/{samples} runs " + reds[-1]
