"""The Dev Server's own failures without a server: a missing tool named with the command that
builds it, a server that dies at start. (Refusals, diff, read and pickling of every local
server: test_provider_contract.py.)"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from components.local import go_tools
from components.local.errors import LocalServerError
from components.local.inngest_server import InngestDevServerProvider


def test_a_missing_dev_server_build_names_the_command(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("MENTORA_TOOLS_DIR", str(tmp_path))
    with pytest.raises(LocalServerError) as err:
        go_tools.tool_binary("jobs", "inngest", "github.com/inngest/inngest", "inngest")
    assert str(err.value) == (
        f"jobs: {tmp_path}/inngest-v1.0.0/bin/inngest is missing; build it: "
        "scripts/install-go-tool.sh inngest (scripts/bootstrap.sh does it too)"
    )
    assert go_tools.pinned_version("toxiproxy", "github.com/Shopify/toxiproxy/v2") == "v2.12.0"


def test_a_dev_server_that_dies_at_start_fails_fast_and_keeps_its_log(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, state_dir: Path
) -> None:
    import socket

    from components.local.errors import ServerStartError

    binary = tmp_path / "inngest-v1.0.0" / "bin" / "inngest"
    binary.parent.mkdir(parents=True)
    binary.write_text("#!/bin/sh\necho 'bind: address already in use' >&2\nexit 1\n")
    binary.chmod(0o755)
    monkeypatch.setenv("MENTORA_TOOLS_DIR", str(tmp_path))
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    data_dir = state_dir / "inngest"
    props = {"port": port, "data_dir": str(data_dir), "app_url": "http://127.0.0.1:1/api/inngest"}
    started = time.monotonic()
    with pytest.raises(ServerStartError, match=f"jobs: the Inngest Dev Server exited .*{data_dir}"):
        InngestDevServerProvider().create(props)
    assert time.monotonic() - started < 5
    assert "address already in use" in (data_dir / "inngest.log").read_text()
