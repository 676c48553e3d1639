#!/bin/sh
# Serve the pack as a binary analyzer: `pulumi preview --policy-pack policy/analyzer.sh`.
# Workaround while scripts/install-pulumi.sh builds the Python language host from sdk v3.68.0: that
# host reads the pre-3.1xx RunPlugin request, so `--policy-pack policy` (a directory) starts
# `python ""` and fails with "could not read plugin ... EOF". Given an executable, the engine
# (>= v3.27x) runs it directly with the engine address as argument; it must print the gRPC port.
set -eu
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"
exec "$here/../.venv/bin/python" "$here/__main__.py" "$@"
