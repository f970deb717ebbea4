"""The pivot pipeline: the only place where the order of the ONNX passes is written down."""

from __future__ import annotations

import onnx_ir as ir
from onnx_ir.passes import common

from pivot.errors import ConversionError, PassError
from pivot.passes.attention import FuseGeluPass
from pivot.passes.cleanup import DropoutToIdentityPass, IdentityEliminationPass
from pivot.passes.fold import DEFAULT_MAX_FOLD_BYTES, FoldConstantsPass, FoldLimit
from pivot.passes.fold_bn import FoldBatchNormPass
from pivot.passes.guard import Named
from pivot.passes.normalize import TARGET_OPSET, normalize_opset
from pivot.passes.onnx_api import CheckModelPass, InferShapesPass, probe_native
from pivot.passes.transpose import ComposeTransposesPass

__all__ = ["DEFAULT_MAX_FOLD_BYTES", "TARGET_OPSET", "FoldLimit", "default_pipeline", "optimize"]


def default_pipeline(fold_limit: FoldLimit | None = None) -> ir.passes.PassBase:
    """Infer shapes, fold constants, compose transposes, fold batch norms, remove dead nodes, sort.

    ``fold_limit`` counts the bytes folded over every step (default: ``FoldLimit.for_model`` per run).
    """
    simplify = ir.passes.PassManager(
        [
            Named(FoldConstantsPass(fold_limit)),
            Named(DropoutToIdentityPass()),
            Named(IdentityEliminationPass()),
            Named(ComposeTransposesPass()),
            Named(FoldBatchNormPass()),
            Named(FuseGeluPass()),
            Named(common.RemoveUnusedNodesPass()),
            Named(InferShapesPass()),
        ],
        steps=8,
        early_stop=True,
    )
    return ir.passes.Sequential(
        Named(common.LiftConstantsToInitializersPass(lift_all_constants=True, size_limit=0)),
        Named(InferShapesPass()),
        simplify,
        Named(common.RemoveUnusedNodesPass()),
        Named(common.TopologicalSortPass()),
        Named(common.NameFixPass()),
        Named(CheckModelPass()),
    )


def optimize(model: ir.Model, target_opset: int = TARGET_OPSET, *, max_fold_bytes: int | None = None) -> ir.Model:
    """Normalize the opset, then run the default pipeline; returns the optimized pivot model.

    ``max_fold_bytes`` bounds the bytes of constants folding may create over the whole pipeline (default:
    max(256 MiB, 2 x the model's initializer bytes)); a node that would pass it raises ``InputError``.
    An input error raised inside a pass comes out as itself, not wrapped in onnx_ir's ``PassError``; any
    other failure as a one-line ``pivot.errors.PassError`` naming the pass, the node when known, and the cause.
    """
    common.RemoveInitializersFromInputsPass()(model)
    probe_native(model, target_opset)
    limit = FoldLimit.for_model(model, max_fold_bytes)
    try:
        return default_pipeline(limit)(normalize_opset(model, target_opset)).model
    except ir.passes.PassError as e:
        cause: BaseException | None = e
        while cause is not None and not isinstance(cause, ConversionError):
            cause = cause.__cause__
        if cause is None:  # a pass outside ``Named`` (none today): name the pipeline
            raise PassError("pipeline", e.__cause__ or e) from e
        raise cause from None
