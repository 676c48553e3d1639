"""Development tooling shared by the tests and the bench: throwaway project copies, free ports,
Toxiproxy and fault servers, measurement helpers. Never imported by the program or smoke."""
