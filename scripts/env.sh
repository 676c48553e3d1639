# Environment for running Pulumi on this project. Source it:
#   source scripts/env.sh && pulumi up -s local            # the local stack (default)
#   MENTORA_STACK=dev source scripts/env.sh                 # a cloud stack (dev, prod)
#   mentora_stack_env prod                                  # switch in a shell that sourced it
# local: offline, file backend and passphrase in the git-ignored .pulumi-local/ folder.
# cloud: the state backend is PULUMI_BACKEND_URL or MENTORA_BACKEND_URL when set, else Pulumi
# Cloud (with PULUMI_ACCESS_TOKEN, or the `pulumi login` of this machine); plugins may be
# installed by scripts/install-plugins.sh at their pinned versions (the engine fetches none).
# The Pulumi CLI is cached outside the repo ($MENTORA_TOOLS_DIR, default ~/.cache/mentora-infra).
MENTORA_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export MENTORA_ROOT
export MENTORA_LOCAL_DIR="$MENTORA_ROOT/.pulumi-local"
export MENTORA_TOOLS_DIR="${MENTORA_TOOLS_DIR:-$HOME/.cache/mentora-infra}"
export MENTORA_PULUMI_VERSION="v3.274.1"
# The policy pack, as the engine can run it with the toolchain bootstrap builds: an ABSOLUTE path
# to the executable form (a relative one is checked from the cwd but executed from the program
# directory, stacks/, so it is "not found"; see policy/README.md):
#   pulumi preview -s local --policy-pack "$MENTORA_POLICY_PACK"
export MENTORA_POLICY_PACK="$MENTORA_ROOT/policy/analyzer.sh"
# Engine noise off for every stack.
export PULUMI_SKIP_UPDATE_CHECK=true
export PULUMI_SKIP_CONFIRMATIONS=true
export PULUMI_DIY_BACKEND_NO_LEGACY_WARNING=true
export PULUMI_PYTHON_CMD="$MENTORA_ROOT/.venv/bin/python"
case ":$PATH:" in
  *":$MENTORA_TOOLS_DIR/pulumi-$MENTORA_PULUMI_VERSION/bin:"*) ;;
  *) export PATH="$MENTORA_TOOLS_DIR/pulumi-$MENTORA_PULUMI_VERSION/bin:$MENTORA_ROOT/.venv/bin:$PATH" ;;
esac
# Providers fork server processes from a gRPC server: gRPC's fork handlers have crashed such a
# child (pg_ctl exited with SIGSEGV once in 5 runs); the children never use gRPC, so turn them off.
export GRPC_ENABLE_FORK_SUPPORT=false
# Quiet noise from libraries inside the engine's plugins (gRPC logs, platformdirs).
export GRPC_VERBOSITY="${GRPC_VERBOSITY:-ERROR}"
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp/runtime-$(id -u)}"
mkdir -p -m 700 "$XDG_RUNTIME_DIR" 2>/dev/null || true

# Backend, passphrase and plugin acquisition of one stack: `mentora_stack_env <stack>`.
mentora_stack_env() {
  local stack="${1:-local}" local_backend="file://$MENTORA_LOCAL_DIR/backend"
  export MENTORA_STACK="$stack" MENTORA_ENV_STACK="$stack"  # the latter survives `VAR=x source`
  if [[ "$stack" == local ]]; then
    # Offline engine: file backend, local passphrase, no plugin downloads.
    export PULUMI_BACKEND_URL="$local_backend"
    export PULUMI_CONFIG_PASSPHRASE_FILE="$MENTORA_LOCAL_DIR/passphrase"
    export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
    return 0
  fi
  # Leave nothing of the local stack behind (a shell may switch from local to dev).
  [[ "${PULUMI_BACKEND_URL:-}" == "$local_backend" ]] && unset PULUMI_BACKEND_URL
  [[ "${PULUMI_CONFIG_PASSPHRASE_FILE:-}" == "$MENTORA_LOCAL_DIR/passphrase" ]] &&
    unset PULUMI_CONFIG_PASSPHRASE_FILE
  # Cloud stacks use exactly the pinned plugins that scripts/install-plugins.sh installs: the
  # engine never fetches another version itself, and a missing one fails at once naming the
  # `pulumi plugin install` command (offline, a download would retry for minutes).
  export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
  if [[ -n "${PULUMI_BACKEND_URL:-}" ]]; then
    :
  elif [[ -n "${MENTORA_BACKEND_URL:-}" ]]; then
    export PULUMI_BACKEND_URL="$MENTORA_BACKEND_URL"
  elif [[ -z "${PULUMI_ACCESS_TOKEN:-}" ]]; then
    echo "env.sh: stack $stack: no PULUMI_BACKEND_URL, MENTORA_BACKEND_URL or" \
      "PULUMI_ACCESS_TOKEN; pulumi uses this machine's \`pulumi login\`" >&2
  fi
  return 0
}
mentora_stack_env "${MENTORA_STACK:-local}"
