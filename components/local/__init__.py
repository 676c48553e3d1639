"""Dynamic providers that run the local stack's servers on this machine."""
