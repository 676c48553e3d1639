"""Benchmarks of mentora-infra (`make bench`): bootstrap, cold and no-op `pulumi up`, smoke,
time to detect each dead service, migrations, and the floor (the providers' own steps) the
cold `up` is compared to.

Targets live here, never in timed tests. See docs/benchmarks.md.
"""
