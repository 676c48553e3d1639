"""`mentora-infra rotate`: replace a stack's credentials without a window in which the app holds
a dead one (issue 23). One module per credential kind (database, cache, storage, errors), the
state edit (state.py), the app's switch (switch.py), the journal that makes an interrupted
rotation finishable (journal.py) and the order of steps (engine.py)."""


def described(exc: BaseException) -> str:
    r"""`Type: first line of the message` (at most 300 characters), safe for an empty message:
    what `rotate` and `up` print of an error instead of a traceback, whose locals hold
    credentials.

    >>> described(ValueError("bad\nmore")), described(AssertionError())
    ('ValueError: bad', 'AssertionError')
    """
    first = (str(exc).strip().splitlines() or [""])[0][:300]
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__
