"""Secret-leak scan of the real local stack: every secret value it holds, in every spelling a
URL or JSON may give it, must appear nowhere but in its ciphertext and in `.env.local` (the
0600 file whose job is to hold them): not in committed files, the state folder, the outputs
without `--show-secrets`, the logs of `up`, `preview` and smoke, or any report file, on passing
and on failing runs. A hit names where and which secret, never the value.
"""

from __future__ import annotations

import json
import re
import secrets
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus, unquote

from devtools.project import REPO, SECRET_SIG, LocalProject
from smoke.redact import is_secret_name, url_secrets

# Values this short would be common words; every generated secret here is 20+ characters.
MIN_LEN = 12
# Pickled provider code travels as a secret but is not a credential.
NOT_CREDENTIALS = ("__provider",)


def _add(found: dict[str, str], where: str, value: str) -> None:
    for part in url_secrets(value) if "://" in value else [value]:
        if len(part) >= MIN_LEN:
            found.setdefault(part, where)


def _walk(found: dict[str, str], where: str, value: Any, secret: bool) -> None:
    """Collect credentials: secret scalars, secret-named map entries, every URL's password."""
    if isinstance(value, dict) and SECRET_SIG in value:
        _walk(found, where, json.loads(value["plaintext"]), True)
    elif isinstance(value, dict):
        for key, item in value.items():
            if key in NOT_CREDENTIALS:
                continue
            named = secret and isinstance(item, str) and is_secret_name(key)
            _walk(found, f"{where}.{key}", item, named or (secret and not isinstance(item, str)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _walk(found, f"{where}[{index}]", item, secret)
    elif isinstance(value, str) and (secret or "://" in value):
        _add(found, where, value)


def stack_secrets(project: LocalProject) -> dict[str, str]:
    """secret value -> where it lives (`cache-server.outputs.password`): the state's secrets,
    the secret outputs, and the passphrase."""
    found: dict[str, str] = {}
    deployment = json.loads(project.run("stack", "export", "--show-secrets").output)
    for resource in deployment["deployment"].get("resources") or []:
        name = resource["urn"].rsplit("::", 1)[-1]
        for part in ("inputs", "outputs"):
            _walk(found, f"{name}.{part}", resource.get(part) or {}, False)
    outputs = json.loads(project.outputs(show_secrets=True).output)
    for name in ("database_url", "redis_url", "env"):
        _walk(found, f"output {name}", outputs[name], True)
    found[(project.root / ".pulumi-local" / "passphrase").read_text().strip()] = "passphrase"
    return found


def spellings(value: str) -> set[str]:
    """The value as written, percent-encoded (path and form style), decoded and JSON-escaped."""
    escaped = json.dumps(value)[1:-1]
    forms = {value, quote(value, safe=""), quote_plus(value), unquote(value), escaped}
    return {form for form in forms | {escaped.replace("/", "\\/")} if len(form) >= MIN_LEN}


class Scan:
    """Looks for every spelling of every secret; `hits` holds `where: which secret`."""

    def __init__(self, values: dict[str, str]) -> None:
        self.needles = {
            form.encode(): label for value, label in values.items() for form in spellings(value)
        }
        self.hits: list[str] = []
        self.scanned = 0

    def data(self, where: str, data: bytes | str, allowed: tuple[str, ...] = ()) -> None:
        raw = data.encode() if isinstance(data, str) else data
        self.scanned += 1
        for needle, label in self.needles.items():
            if needle in raw and not any(part in label for part in allowed):
                self.hits.append(f"{where}: {label}")

    def tree(
        self, where: str, folder: Path, allow: dict[Path, tuple[str, ...]] | None = None
    ) -> None:
        """Scan every file below `folder`; `allow` maps a file or folder to the secrets (label
        parts) that may be in it."""
        for path in sorted(folder.rglob("*")):
            if path.is_file() and not path.is_symlink():
                allowed = tuple(
                    part
                    for place, parts in (allow or {}).items()
                    if path == place or place in path.parents
                    for part in parts
                )
                self.data(f"{where}/{path.relative_to(folder)}", path.read_bytes(), allowed)


def scan_everything(project: LocalProject, extra: dict[str, str] | None = None) -> Scan:
    scan = Scan({**stack_secrets(project), **(extra or {})})
    tracked = subprocess.run(
        ["git", "ls-files", "-z"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.split("\0")
    for name in filter(None, tracked):
        for root, label in ((REPO, "repo"), (project.root, "copy")):
            if (root / name).is_file():
                scan.data(f"{label}:{name}", (root / name).read_bytes())
    state = project.root / ".pulumi-local"
    allow = {
        state / "passphrase": ("passphrase",),
        # Bugsink checks its API token and the project's DSN key against its own database, so
        # it must keep them (in its 0700 data dir); nothing else may hold them.
        state / "servers" / "bugsink": ("api_token", "dsn", "SENTRY_AUTH_TOKEN", "SENTRY_DSN"),
    }
    scan.tree(".pulumi-local", state, allow)
    scan.tree("reports", project.root / "reports")
    for result in project.log:
        if "--show-secrets" not in result.args:
            scan.data(f"output of {' '.join(result.args[:4])}", result.output)
    assert scan.scanned > 100, "the scan saw almost nothing"
    return scan


def reports(project: LocalProject, run: str) -> list[str]:
    folder = project.root / "reports"
    return ["--junitxml", f"{folder}/{run}.xml", "--json-report", f"{folder}/{run}.json"]


# Every log record at DEBUG (botocore prints request headers), captured output of passing
# checks on the terminal (-rA) and in junit.
VERBOSE = ("--log-level=DEBUG", "-rA", "-o", "junit_logging=all")


def test_passing_runs_leak_nothing(local_project: LocalProject) -> None:
    folder = local_project.root / "reports"
    gate = local_project.gate(
        "up", "local", "--junit", f"{folder}/gate-up.xml", "--json", f"{folder}/gate-up.json"
    )
    assert gate.returncode == 0, gate.output[-3000:]
    smoke = local_project.smoke(*reports(local_project, "pass"), *VERBOSE)
    assert smoke.returncode == 0, smoke.output[-3000:]
    assert "botocore" in (folder / "pass.xml").read_text()  # debug logs did reach the report
    local_project.outputs(show_secrets=False)
    local_project.run("stack", "export")
    scan = scan_everything(local_project)
    assert scan.hits == [], "secret value(s) found; where: which secret"


def wrong_outputs(project: LocalProject, made_up: dict[str, str]) -> Path:
    """The outputs with made-up Postgres and Redis passwords and S3 secret key."""
    outputs = json.loads(project.outputs(show_secrets=True).output)
    for name in ("database_url", "redis_url"):
        wrong = secrets.token_urlsafe(24)
        made_up[wrong] = f"made-up password of {name}"
        outputs[name] = re.sub(r"^(\w+://[^:@/]*:)[^@]+@", rf"\g<1>{wrong}@", outputs[name])
    wrong_key = secrets.token_urlsafe(30) + "+/"
    made_up[wrong_key] = "made-up AWS_SECRET_ACCESS_KEY"
    outputs["env"]["AWS_SECRET_ACCESS_KEY"] = wrong_key
    path = project.root / "wrong-outputs.json"
    path.write_text(json.dumps(outputs))
    return path


def test_failing_runs_leak_nothing(local_project: LocalProject) -> None:
    made_up: dict[str, str] = {}  # credentials a failing run is given must not show either
    folder = local_project.root / "reports"
    local_project.kill_server("redis")
    gate = local_project.gate(
        "smoke", "local", "--junit", f"{folder}/gate-fail.xml", "--json", f"{folder}/gate-fail.json"
    )
    assert gate.returncode == 1, gate.output[-3000:]
    diff = local_project.run("preview", "--diff", "--refresh")
    assert "running" in diff.output
    local_project.up("--refresh")

    saved = wrong_outputs(local_project, made_up)
    wrong = local_project.smoke_file(saved, *reports(local_project, "wrong"), *VERBOSE)
    for service in ("database", "cache", "storage"):
        refused = rf"{service}: [\w .-]+ at 127\.0\.0\.1:\d+ rejected the credentials"
        assert re.search(refused, wrong.output), wrong.output[-3000:]
    assert re.search(r"SMOKE: FAILED \(services: database, cache, storage", wrong.output)

    broken = local_project.root / "supabase" / "migrations" / "20991231000000_leak_probe.sql"
    broken.write_text("select 1 / 0;\n")
    try:
        failed_up = local_project.run("up", "--yes", "--skip-preview", check=False)
        assert failed_up.returncode != 0 and "20991231000000_leak_probe.sql failed" in (
            failed_up.output
        )
    finally:
        broken.unlink()
    local_project.up()

    scan = scan_everything(local_project, made_up)
    assert scan.hits == [], "secret value(s) found; where: which secret"
