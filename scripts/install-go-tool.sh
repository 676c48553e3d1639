#!/usr/bin/env bash
# Builds a Go tool from its committed tools module tools/<name>/ (go.mod + go.sum + tools.go +
# build.env) at the pinned version into $MENTORA_TOOLS_DIR/<name>-<version>/bin (never the repo).
#
# Integrity: every module hash is pinned in the committed go.sum. The build runs in a throwaway
# copy of the tools module; a hash mismatch fails the build ("checksum mismatch"), and a hash the
# committed go.sum lacks (go would add it) fails it too, so nothing unpinned is ever compiled.
# Idempotent: a stamp holding the module@version and the hash of go.mod, go.sum and build.env is checked first,
# then the binary's own version output; a matching cached build is reused (well under a second).
#
# Usage: scripts/install-go-tool.sh inngest              (prints the bin directory on stdout)
#        scripts/install-go-tool.sh inngest toxiproxy    (builds them in parallel, waits for all,
#                                                          names every tool that failed)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/env.sh
source "$ROOT/scripts/env.sh"

if (( $# > 1 )); then
  declare -A pids=()
  for tool in "$@"; do "${BASH_SOURCE[0]}" "$tool" & pids[$tool]=$!; done
  failed=()
  for tool in "$@"; do wait "${pids[$tool]}" || failed+=("$tool"); done
  (( ${#failed[@]} == 0 )) || {
    printf 'install-go-tool: error: failed to build: %s (see their messages above)\n' \
      "${failed[*]}" >&2
    exit 2
  }
  exit 0
fi
NAME="${1:-}"
log() { printf '%s: %s\n' "${NAME:-install-go-tool}" "$*" >&2; }
die() { printf '%s: error: %s\n' "${NAME:-install-go-tool}" "$*" >&2; exit 2; }

SRC="$ROOT/tools/$NAME"
[[ -n "$NAME" && -f "$SRC/build.env" ]] \
  || die "unknown tool '${NAME}'; use one of: $(cd "$ROOT/tools" && ls -d -- */ | tr -d / | xargs)"
# build.env sets MODULE, PACKAGES ("import/path=binary ..."), VERSION_ARGS, optional NOSUMDB and
# LDFLAGS (which may use $VERSION).
MODULE="" PACKAGES="" VERSION_ARGS="" NOSUMDB="" LDFLAGS=""
VERSION="$(sed -n 's/^require \([^ ]*\) \(v[^ ]*\)$/\1 \2/p; s/^\t\([^ ]*\) \(v[^ ]*\)$/\1 \2/p' \
  "$SRC/go.mod" | awk -v m="$(sed -n 's/^MODULE=//p' "$SRC/build.env")" '$1 == m {print $2}')"
[[ -n "$VERSION" ]] || die "tools/$NAME/go.mod does not require the MODULE named in build.env"
# shellcheck disable=SC1091
source "$SRC/build.env"

DEST="$MENTORA_TOOLS_DIR/$NAME-$VERSION/bin"
STAMP="$DEST/.mentora-tool"
WANT="$MODULE@$VERSION $(cat "$SRC/go.mod" "$SRC/go.sum" "$SRC/build.env" | sha256sum | cut -d' ' -f1)"
first_bin="${PACKAGES%% *}"; first_bin="${first_bin##*=}"

cached() {
  [[ -f "$STAMP" && "$(cat "$STAMP")" == "$WANT" ]] || return 1
  local pkg
  for pkg in $PACKAGES; do [[ -x "$DEST/${pkg##*=}" ]] || return 1; done
  # shellcheck disable=SC2086
  timeout 10 "$DEST/$first_bin" $VERSION_ARGS 2>&1 | grep -qF "${VERSION#v}" || return 1
}

build() {
  command -v go >/dev/null || die "Go is needed to build $MODULE@$VERSION; install Go >= 1.22"
  local work start pkg; work="$(mktemp -d)"; start=$(date +%s)
  # shellcheck disable=SC2064 # expand now: `work` is local to this function
  trap "rm -rf '$work'" EXIT
  cp "$SRC/go.mod" "$SRC/go.sum" "$SRC/tools.go" "$work/"
  log "building $MODULE@$VERSION from the Go module proxy (go.sum-pinned; first run takes minutes)"
  mkdir -p "$DEST"
  rm -f "$STAMP"
  for pkg in $PACKAGES; do
    # GONOSUMDB only for this tool's modules (the checksum database does not know them);
    # their hashes are still checked against the committed go.sum.
    (cd "$work" && GOTOOLCHAIN=local CGO_ENABLED=0 GONOSUMDB="$NOSUMDB" \
      GOFLAGS="-mod=mod -buildvcs=false" \
      go build -trimpath -ldflags "$LDFLAGS" -o "$DEST/${pkg##*=}" "${pkg%%=*}") \
      || die "go build of ${pkg%%=*}@$VERSION failed (see go output above; a 'checksum mismatch' \
means tools/$NAME/go.sum does not match what the proxy served)"
  done
  if ! cmp -s "$SRC/go.sum" "$work/go.sum"; then
    rm -f "$DEST"/*
    die "tools/$NAME/go.sum lacks hashes the build needed (unpinned modules); regenerate it with \
'cd tools/$NAME && GONOSUMDB=$NOSUMDB GOFLAGS=-mod=mod go mod tidy' and review the diff"
  fi
  echo "$WANT" >"$STAMP"
  log "built into $DEST in $(( $(date +%s) - start ))s"
}

if cached; then
  log "cached $DEST ($VERSION)"
else
  build
fi
echo "$DEST"
