"""Reading resource properties the way the policy engine hands them over.

During `pulumi preview` some inputs are not known yet (for example a bucket id that AWS has not
allocated). `pulumi_policy` wraps props in a proxy that raises `UnknownValueError` on access, and
raw sentinel strings can appear when props are not proxied. `prop` turns both into `UNKNOWN`, so a
policy can skip the one check it cannot decide yet: `pulumi up` runs the policies again with the
values known.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final, Protocol

from pulumi_policy.proxy import (
    UNKNOWN_ARRAY_VALUE,
    UNKNOWN_ASSET_VALUE,
    UNKNOWN_BOOLEAN_VALUE,
    UNKNOWN_NUMBER_VALUE,
    UNKNOWN_OBJECT_VALUE,
    UNKNOWN_STRING_VALUE,
    UnknownValueError,
)

Props = Mapping[str, Any]

_SENTINELS: Final = frozenset(
    {
        UNKNOWN_ARRAY_VALUE,
        UNKNOWN_ASSET_VALUE,
        UNKNOWN_BOOLEAN_VALUE,
        UNKNOWN_NUMBER_VALUE,
        UNKNOWN_OBJECT_VALUE,
        UNKNOWN_STRING_VALUE,
    }
)


class _Unknown:
    """Type of `UNKNOWN`: a value the engine will only know after the update."""

    def __repr__(self) -> str:
        return "<unknown>"


UNKNOWN: Final = _Unknown()


class HasUrn(Protocol):
    """Anything with a URN (a `pulumi_policy.PolicyResource` dependency)."""

    urn: str


class StackResource(Protocol):
    """The fields of `pulumi_policy.PolicyResource` the stack policies read."""

    resource_type: str
    props: Props
    urn: str
    name: str

    @property
    def property_dependencies(self) -> Mapping[str, Sequence[HasUrn]]: ...


def _known(value: Any) -> Any:
    if isinstance(value, str) and value in _SENTINELS:
        return UNKNOWN
    return value


def prop(props: Any, *path: str | int) -> Any:
    """Return the value at `path` in `props`: `None` when absent, `UNKNOWN` when not known yet.

    >>> prop({"rules": [{"sseAlgorithm": "AES256"}]}, "rules", 0, "sseAlgorithm")
    'AES256'
    """
    current: Any = props
    for key in path:
        if current is None or current is UNKNOWN:
            return current
        try:
            if isinstance(key, int):
                if not isinstance(current, Sequence) or isinstance(current, str):
                    return None
                current = current[key] if -len(current) <= key < len(current) else None
            elif isinstance(current, Mapping):
                current = current[key] if key in list(current) else None
            else:
                return None
        except UnknownValueError:
            return UNKNOWN
        current = _known(current)
    return current


def items(value: Any) -> list[Any]:
    """Return the elements of a list prop (`UNKNOWN` for unknown elements); `[]` for a non-list.

    >>> items([{"a": 1}, "x"])
    [{'a': 1}, 'x']
    """
    value = _known(value)
    if value is None or value is UNKNOWN:
        return []
    if isinstance(value, Mapping | str):
        return [value]
    if not isinstance(value, Sequence):
        return []
    return [prop(value, index) for index in range(len(value))]


def has_key(props: Any, key: str) -> bool:
    """Whether `props` holds `key`, without reading its value (which may be unknown)."""
    return isinstance(props, Mapping) and key in list(props)


def is_true(value: Any) -> bool:
    """Whether a (possibly string-typed) boolean prop is true."""
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return value is True


def short_type(resource_type: str) -> str:
    """The class name of a type token: `aws:s3/bucket:Bucket` -> `Bucket`."""
    return resource_type.rsplit(":", 1)[-1]
