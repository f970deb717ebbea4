"""A small generic registry of rules with declared outputs and constraints."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Generic, TypeVar

F = TypeVar("F", bound=Callable[..., object])


class DuplicateRuleError(ValueError):
    """A key was registered twice for overlapping version ranges."""


@dataclass(frozen=True)
class Rule(Generic[F]):
    """One conversion rule: the key it handles, the function, and what it may produce."""

    key: str
    fn: F
    produces: frozenset[str]
    since: int = 1
    until: int | None = None
    limits: tuple[str, ...] = ()
    doc: str = ""
    meta: dict[str, object] = field(default_factory=dict, compare=False, hash=False)

    def covers(self, version: int) -> bool:
        """Whether this rule handles the given opset / format version."""
        return self.since <= version and (self.until is None or version <= self.until)


class Registry(Generic[F]):
    """An explicit, inspectable mapping from key to rules (one per version range)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._rules: dict[str, list[Rule[F]]] = {}

    def rule(
        self,
        key: str,
        *,
        produces: Iterable[str],
        since: int = 1,
        until: int | None = None,
        limits: Iterable[str] = (),
        **meta: object,
    ) -> Callable[[F], F]:
        """Decorator registering ``fn`` for ``key``; the docstring's first line becomes ``doc``."""

        def decorate(fn: F) -> F:
            doc = (fn.__doc__ or "").strip().splitlines()
            self.add(Rule(key, fn, frozenset(produces), since, until, tuple(limits), doc[0] if doc else "", dict(meta)))
            return fn

        return decorate

    def add(self, rule: Rule[F]) -> None:
        """Register a rule; rejects a second rule whose version range overlaps."""
        for other in self._rules.get(rule.key, []):
            hi, other_hi = rule.until or 10**9, other.until or 10**9
            if rule.since <= other_hi and other.since <= hi:
                raise DuplicateRuleError(f"{self.name}: {rule.key} registered twice")
        self._rules.setdefault(rule.key, []).append(rule)

    def lookup(self, key: str, version: int) -> Rule[F] | None:
        """The rule for ``key`` at ``version``, or None."""
        return next((r for r in self._rules.get(key, []) if r.covers(version)), None)

    def keys(self) -> frozenset[str]:
        """Every registered key."""
        return frozenset(self._rules)

    def __iter__(self) -> Iterator[Rule[F]]:
        for key in sorted(self._rules):
            yield from self._rules[key]

    def __contains__(self, key: object) -> bool:
        return key in self._rules
