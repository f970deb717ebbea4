"""The pivot pipeline: the only place where the order of the ONNX passes is written down."""

from __future__ import annotations

import onnx_ir as ir
from onnx_ir.passes import common

from pivot.passes.cleanup import DropoutToIdentityPass, IdentityEliminationPass
from pivot.passes.fold import FoldConstantsPass
from pivot.passes.fold_bn import FoldBatchNormPass
from pivot.passes.normalize import TARGET_OPSET, normalize_opset
from pivot.passes.onnx_api import CheckModelPass, InferShapesPass
from pivot.passes.transpose import ComposeTransposesPass

__all__ = ["TARGET_OPSET", "default_pipeline", "optimize"]


def default_pipeline() -> ir.passes.PassBase:
    """Infer shapes, fold constants, compose transposes, fold batch norms, remove dead nodes, sort."""
    simplify = ir.passes.PassManager(
        [
            FoldConstantsPass(),
            DropoutToIdentityPass(),
            IdentityEliminationPass(),
            ComposeTransposesPass(),
            FoldBatchNormPass(),
            common.RemoveUnusedNodesPass(),
            InferShapesPass(),
        ],
        steps=8,
        early_stop=True,
    )
    return ir.passes.Sequential(
        common.LiftConstantsToInitializersPass(lift_all_constants=True, size_limit=0),
        InferShapesPass(),
        simplify,
        common.RemoveUnusedNodesPass(),
        common.TopologicalSortPass(),
        common.NameFixPass(),
        CheckModelPass(),
    )


def optimize(model: ir.Model, target_opset: int = TARGET_OPSET) -> ir.Model:
    """Normalize the opset, then run the default pipeline; returns the optimized pivot model."""
    common.RemoveInitializersFromInputsPass()(model)
    return default_pipeline()(normalize_opset(model, target_opset)).model
