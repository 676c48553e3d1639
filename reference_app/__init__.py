"""Reference implementation of the app contract (docs/app-contract.md) for the local stack."""
