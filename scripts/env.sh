# Environment for running Pulumi offline against the local stack. Source it:
#   source scripts/env.sh && pulumi up -s local
# Everything lives in the git-ignored .pulumi-local/ folder of the repo, except the Pulumi CLI,
# which is cached outside the repo ($MENTORA_TOOLS_DIR, default ~/.cache/mentora-infra).
MENTORA_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export MENTORA_ROOT
export MENTORA_LOCAL_DIR="$MENTORA_ROOT/.pulumi-local"
export MENTORA_TOOLS_DIR="${MENTORA_TOOLS_DIR:-$HOME/.cache/mentora-infra}"
export MENTORA_PULUMI_VERSION="v3.274.1"
export PULUMI_BACKEND_URL="${MENTORA_BACKEND_URL:-file://$MENTORA_LOCAL_DIR/backend}"
export PULUMI_CONFIG_PASSPHRASE_FILE="$MENTORA_LOCAL_DIR/passphrase"
# Offline engine: no update checks, no plugin downloads, no telemetry.
export PULUMI_SKIP_UPDATE_CHECK=true
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
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
