#!/usr/bin/env bash
# Installs the resource plugins the cloud stacks pin (aws, random, vercel, upstash), at the
# versions of components/cloud/providers.py PLUGIN_VERSIONS (= the SDK pins of pyproject.toml),
# each from the server its SDK's pulumi-plugin.json names (PLUGIN_SERVERS there: upstash,
# vercel); the others from Pulumi's own. The local stack needs none of them.
#
#   scripts/install-plugins.sh           install what is missing (installed ones are skipped)
#   scripts/install-plugins.sh --check   install nothing; exit 2 naming the first missing one
#
# Exit 0: all installed. Exit 2: a plugin is missing (--check) or could not be downloaded
# (network unreachable): ONE line names the plugin and the command to run. Exit 1: other errors.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PROVIDERS="$ROOT/components/cloud/providers.py"
PULUMI="${PULUMI:-pulumi}"
INSTALL_TIMEOUT_S="${MENTORA_PLUGIN_TIMEOUT_S:-300}"
CHECK_ONLY=false
case "${1:-}" in
  --check) CHECK_ONLY=true ;;
  "") ;;
  *) echo "install-plugins: unknown argument '$1' (use --check or nothing)" >&2; exit 1 ;;
esac

say() { echo "install-plugins: $*" >&2; }

if ! command -v "$PULUMI" >/dev/null 2>&1; then
  say "no pulumi CLI on PATH; run: source scripts/env.sh (after scripts/bootstrap.sh)"
  exit 1
fi

# "name version" lines of the PLUGIN_VERSIONS dict, "name server" lines of PLUGIN_SERVERS.
PINS="$(sed -n '/^PLUGIN_VERSIONS/,/^}/p' "$PROVIDERS" \
  | sed -n 's/^ *"\([a-z0-9-]*\)": *"\([0-9][0-9A-Za-z.+-]*\)",\{0,1\}$/\1 \2/p')"
SERVERS="$(sed -n '/^PLUGIN_SERVERS/,/^}/p' "$PROVIDERS" \
  | sed -n 's/^ *"\([a-z0-9-]*\)": *"\([a-z]*:\/\/[^"]*\)",\{0,1\}$/\1 \2/p')"
if [[ -z "$PINS" || -z "$SERVERS" ]]; then
  say "cannot read PLUGIN_VERSIONS / PLUGIN_SERVERS from $PROVIDERS"
  exit 1
fi
server_of() { awk -v n="$1" '$1 == n { print $2 }' <<<"$SERVERS"; }

# "name version" of every installed resource plugin.
installed() {
  "$PULUMI" plugin ls --json 2>/dev/null | python3 -c '
import json, sys
try:
    plugins = json.load(sys.stdin) or []
except ValueError:
    plugins = []
for p in plugins:
    if p.get("kind") == "resource":
        print(p.get("name"), str(p.get("version", "")).lstrip("v"))
'
}

HAVE="$(installed || true)"
status=0
while read -r name version; do
  [[ -n "$name" ]] || continue
  command=(plugin install resource "$name" "$version")
  server="$(server_of "$name")"
  [[ -n "$server" ]] && command+=(--server "$server")
  shown="pulumi ${command[*]}"
  if grep -qx "$name $version" <<<"$HAVE"; then
    say "$name $version already installed"
    continue
  fi
  if $CHECK_ONLY; then
    say "the $name plugin $version is not installed; run: $shown (or scripts/install-plugins.sh)"
    exit 2
  fi
  say "installing $name $version"
  runner=()
  command -v timeout >/dev/null 2>&1 && runner=(timeout "$INSTALL_TIMEOUT_S")
  if ! out="$("${runner[@]}" "$PULUMI" "${command[@]}" 2>&1)"; then
    reason="$(printf '%s\n' "$out" | grep -v '^[[:space:]]*$' | tail -n 1 | cut -c1-160)"
    if grep -qiE 'dial tcp|no such host|network is unreachable|connection refused|i/o timeout|name resolution|timed out|TLS handshake|could not resolve' <<<"$out" \
      || [[ -z "$out" ]]; then
      say "cannot download the $name plugin $version (network unreachable: ${reason:-timed out}); on a machine with network access run: $shown"
      exit 2
    fi
    say "installing the $name plugin $version failed (${reason}); run: $shown"
    status=1
  fi
done <<<"$PINS"
exit "$status"
