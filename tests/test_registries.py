"""The emission registry keeps its declarations honest: tfjs vocabulary, parity coverage."""

from __future__ import annotations

from backends.tfjs_graph.emitters import load_rules
from backends.tfjs_graph.registry import TFJS
from backends.tfjs_graph.vocab import is_tfjs_op
from tests.cases import all_cases


def test_every_declared_op_is_a_tfjs_op() -> None:
    load_rules()
    unknown = {r.key: sorted(op for op in r.produces if not is_tfjs_op(op)) for r in TFJS}
    assert not {k: v for k, v in unknown.items() if v}


def test_every_rule_has_a_parity_case_and_every_case_a_rule() -> None:
    load_rules()
    keys = {c.key for c in all_cases()}
    assert sorted(TFJS.keys() - keys) == []
    assert sorted(keys - TFJS.keys()) == []


def test_case_ids_are_unique() -> None:
    ids = [c.id for c in all_cases()]
    assert len(ids) == len(set(ids))
