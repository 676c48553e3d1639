"""Tests of the smoke suite itself: no servers needed (a real redis-server is used when present).

Most tests run the suite in a child pytest (tests/unit/smoke/helpers.py `run_smoke`) against an
outputs JSON with fake secrets and dead ports. `pytester` is enabled per test module
(`pytest_plugins = ["pytester"]`): pytest refuses `pytest_plugins` in a conftest below the
rootdir, which this one is.
"""
