"""Developer tools for tests and benches (fault proxies); not part of the deployed stacks."""
