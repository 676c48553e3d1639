"""Review stacks: a live, smoked, isolated copy of the backend per pull request (`pr-<N>`)."""
