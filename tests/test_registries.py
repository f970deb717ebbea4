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
    """Every rule has a case that converts (tests/test_emission.py checks its ``produces`` on it)."""
    load_rules()
    keys = {c.key for c in all_cases()}
    converting = {c.key for c in all_cases() if not c.refused}
    assert sorted(TFJS.keys() - converting) == []
    assert sorted(keys - TFJS.keys()) == []


def test_case_ids_are_unique() -> None:
    ids = [c.id for c in all_cases()]
    assert len(ids) == len(set(ids))


# Keras rules without a per-layer case, each with the reason and where it is tested instead.
KERAS_UNCASED = {
    "InputLayer": "every case starts with one",
    "LayerScale": "a keras.applications-internal layer: covered by ConvNeXtTiny in test_keras_models",
    "StochasticDepth": "a keras-hub/applications-internal layer, identity at inference; not exported by keras.layers",
    "ThresholdedReLU": "Keras 2 / tfjs only (removed from Keras 3), so Keras 3 cannot build a reference",
    "RandomHeight": "tf.keras 2 only (not in Keras 3.15), so Keras 3 cannot build a reference",
    "RandomWidth": "tf.keras 2 only (not in Keras 3.15), so Keras 3 cannot build a reference",
}


def test_every_keras_rule_has_a_case() -> None:
    from frontends.keras.registry import load_rules as load_keras
    from tests.keras_cases import all_cases as keras_cases

    keys = load_keras().keys()
    covered = {c.key for c in keras_cases()}
    lowering = {c.key for c in keras_cases() if not c.refused}  # tests/test_emission.py checks their ``produces``
    assert sorted(keys - lowering - set(KERAS_UNCASED)) == []
    assert sorted(covered - keys) == []
    assert set(KERAS_UNCASED) <= keys
