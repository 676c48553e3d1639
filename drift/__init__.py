"""`mentora-infra drift <stack>`: what changed out of band, found without writing the state.

diff.py reads `pulumi refresh --preview-only --json` into `Drift` records (resource, property,
expected, actual; secrets masked), report.py prints them as a table or JSON, cli.py is the
command (registered in gate/cli.py).
"""
