"""Known gaps of the ONNX node-test corpus run: case name or glob -> reason (see tests/corpus.py)."""

from __future__ import annotations

# Down-converting to the pivot opset (21) is impossible or unimplemented in onnx's version converter.
_DOWNCONVERT = "onnx version converter cannot take this opset-{0} form down to opset 21: {1}"

# Not run at all: the case cannot give a stable or meaningful result. Cases whose inputs/outputs
# have no tfjs dtype are excluded automatically (tests/corpus.py records the reason).
EXCLUDED: dict[str, str] = {}

# Run, and must fail (xfail strict=True): a known, documented limitation. A case that starts
# passing shows up as XPASS(strict) and must be removed from here.
XFAIL: dict[str, str] = {
    "test_globalmaxpool*": _DOWNCONVERT.format(22, "no GlobalMaxPool 22->21 adapter"),
    "test_mod_float32_mixed_sign_fmod_0": _DOWNCONVERT.format(28, "float Mod with fmod=0 is new in opset 28"),
    "test_mod_float_edge_cases_fmod_0_float32": _DOWNCONVERT.format(28, "float Mod with fmod=0 is new in opset 28"),
    "test_spacetodepth_crd_mode_example": _DOWNCONVERT.format(28, "SpaceToDepth mode=CRD is new in opset 28"),
    "test_resize_downsample_scales_linear_align_corners": "Resize align_corners with scales giving a fractional "
        "output length (4 x 0.6): the ONNX reference samples with the fractional length, tfjs (like onnxruntime) "
        "with the integer one",
    "test_l2normalization_axis_0": "LpNormalization emitter: a zero-norm slice gives NaN; ONNX and onnxruntime "
                                   "give 0",
}
