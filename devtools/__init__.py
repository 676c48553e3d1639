"""Development tooling shared by the tests and the bench: throwaway project copies, ports."""
