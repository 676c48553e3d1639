"""`mentora-infra rotate`: replace a stack's credentials without a window in which the app holds
a dead one (issue 23). One module per credential kind (database, cache, storage, errors), the
state edit (state.py), the app's switch (switch.py), the journal that makes an interrupted
rotation finishable (journal.py) and the order of steps (engine.py)."""
