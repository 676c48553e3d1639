#!/usr/bin/env bash
# Provides the Pulumi CLI and its Python language host, offline-capable.
#
# 1. A `pulumi` already on PATH (outside our cache) at >= MIN_VERSION is used as is.
# 2. Else the CLI is built with Go from the Go module proxy at a pinned version, inside a
#    throwaway tools module, into $MENTORA_TOOLS_DIR/pulumi-<version>/bin (never into the repo).
#
# The Python language host: its own module (sdk/python/cmd/pulumi-language-python/v3) is not
# served by the module proxy reachable here (403 for every version and query), so the host is built
# from the last sdk/v3 release that still contained it (LANGHOST_SDK_VERSION). The helper scripts
# the host and dynamic providers need come from sdk/v3 at the CLI's own version.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/env.sh
source "$ROOT/scripts/env.sh"

VERSION="$MENTORA_PULUMI_VERSION"           # CLI: github.com/pulumi/pulumi/pkg/v3
MIN_VERSION="3.150.0"
LANGHOST_SDK_VERSION="v3.68.0"              # sdk/v3 release carrying python/cmd/pulumi-language-python
DEST="$MENTORA_TOOLS_DIR/pulumi-$VERSION/bin"
LDFLAGS="-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$VERSION"

log() { printf 'pulumi: %s\n' "$*" >&2; }
die() { printf 'pulumi: error: %s\n' "$*" >&2; exit 2; }

version_ge() { [[ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" == "$2" ]]; }

existing_cli() {
  local found v
  found="$(PATH="${PATH//$DEST:/}" command -v pulumi || true)"
  [[ -n "$found" ]] || return 1
  v="$("$found" version 2>/dev/null | sed 's/^v//')"
  if version_ge "$v" "$MIN_VERSION"; then
    log "using $found (v$v)"
    return 0
  fi
  log "ignoring $found: v$v is older than $MIN_VERSION"
  return 1
}

cached_cli() {
  [[ -x "$DEST/pulumi" && -x "$DEST/pulumi-language-python" && -x "$DEST/pulumi-language-python-exec" \
     && -x "$DEST/pulumi-resource-pulumi-python" ]] || return 1
  [[ "$("$DEST/pulumi" version 2>/dev/null)" == "$VERSION" ]] || return 1
  log "cached $DEST/pulumi ($VERSION)"
}

go_env() {
  command -v go >/dev/null || die "Go is needed to build the Pulumi CLI (no pulumi on PATH); install Go >= 1.25"
  export GOFLAGS="-mod=mod" GOTOOLCHAIN="${GOTOOLCHAIN:-local}" CGO_ENABLED=0
}

build_cli() {
  local work; work="$(mktemp -d)"
  trap 'rm -rf "$work"' RETURN
  log "building the CLI $VERSION from the Go module proxy (first run: several minutes)"
  cat >"$work/go.mod" <<EOF
module mentora.local/pulumi-tools

go 1.25

require github.com/pulumi/pulumi/pkg/v3 $VERSION
EOF
  printf '//go:build tools\n\npackage tools\n\nimport _ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"\n' \
    >"$work/tools.go"
  (cd "$work" && go mod tidy >/dev/null 2>&1 && go build -trimpath -tags osusergo,grpcnotrace \
    -ldflags "$LDFLAGS" -o "$DEST/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi) \
    || die "go build of github.com/pulumi/pulumi/pkg/v3/cmd/pulumi@$VERSION failed (see go output above)"
}

build_langhost() {
  local work src; work="$(mktemp -d)"
  trap 'rm -rf "$work"' RETURN
  log "building the Python language host from sdk/v3 $LANGHOST_SDK_VERSION"
  src="$(cd "$work" && go mod download -json "github.com/pulumi/pulumi/sdk/v3@$LANGHOST_SDK_VERSION" \
    | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')"
  [[ -d "$src/python/cmd/pulumi-language-python" ]] || die "sdk/v3@$LANGHOST_SDK_VERSION has no language host"
  cp -r "$src" "$work/sdk" && chmod -R u+w "$work/sdk"
  (cd "$work/sdk" && go build -trimpath -ldflags "$LDFLAGS" -o "$DEST/pulumi-language-python" \
    ./python/cmd/pulumi-language-python) || die "go build of the Python language host failed"
}

install_helpers() {
  local sdk
  sdk="$(cd "$(mktemp -d)" && go mod download -json "github.com/pulumi/pulumi/sdk/v3@$VERSION" \
    | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')"
  install -m 0755 "$sdk/python/cmd/pulumi-language-python-exec" "$DEST/pulumi-language-python-exec"
  install -m 0755 "$sdk/python/dist/pulumi-resource-pulumi-python" "$DEST/pulumi-resource-pulumi-python"
}

existing_cli && exit 0
cached_cli && exit 0
go_env
mkdir -p "$DEST"
start=$(date +%s)
[[ -x "$DEST/pulumi" && "$("$DEST/pulumi" version 2>/dev/null)" == "$VERSION" ]] || build_cli
[[ -x "$DEST/pulumi-language-python" ]] || build_langhost
install_helpers
log "installed into $DEST in $(( $(date +%s) - start ))s"
