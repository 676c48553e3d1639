"""The smoke suite: `pytest smoke --stack <name>` proves a stack healthy from its outputs."""
