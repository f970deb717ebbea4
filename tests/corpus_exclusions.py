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
    "test_resize_downsample_scales_*_align_corners": "Resize align_corners with scales giving a fractional "
        "output length (4 x 0.6): the ONNX reference samples with the fractional length, tfjs (like onnxruntime) "
        "with the integer one",
    "test_scan_sum": "opset-8 Scan (a batch axis on every input): the onnx version converter's 8->9 form drops that "
                     "axis, so the opset-8 test data no longer fits the upgraded model",
    "test_l2normalization_axis_0": "LpNormalization emitter: a zero-norm slice gives NaN; ONNX and onnxruntime "
                                   "give 0",
}

# Refused by the converter with a declared limit (UnsupportedOpsError): the case must still be refused
# (checked like xfail strict=True); any other case the converter refuses fails. Cases older than the pivot's
# opset that the onnx version converter cannot upgrade count as refused too.
_RESIZE_POSITIONS = "Resize ({0}): the output samples input positions TensorFlow.js cannot reproduce ({1})"
_REDUCTION = "{0} reduction={1}: TensorFlow.js scatters add or replace only"
UNSUPPORTED_FORMS: dict[str, str] = {
    "test_batchnorm_*_training_mode": "BatchNormalization training_mode=1 (batch statistics): inference only",
    "test_training_dropout*": "Dropout in training mode is random: inference only",
    "test_range_float_type_positive_delta_expanded": "Range's function body: a Loop scan output of unknown rank",
    "test_range_int32_type_negative_delta_expanded": "Range's function body: a Loop scan output of unknown rank",
    "test_resize_*_antialias": "Resize antialias=1",
    "test_resize_tf_crop_and_resize*": "Resize coordinate_transformation_mode tf_crop_and_resize",
    "test_resize_downsample_sizes_nearest_not_smaller":
        _RESIZE_POSITIONS.format("nearest, half_pixel", "[2, 4] -> [2, 3]"),
    "test_roialign_mode_max": "RoiAlign mode=max: onnxruntime takes the max of the weighted bilinear corner terms, "
                              "which no TensorFlow.js op computes",
    "test_scatter_elements_with_reduction_max": _REDUCTION.format("ScatterElements", "max"),
    "test_scatter_elements_with_reduction_min": _REDUCTION.format("ScatterElements", "min"),
    "test_scatter_elements_with_reduction_mul": _REDUCTION.format("ScatterElements", "mul"),
    "test_scatternd_max*": _REDUCTION.format("ScatterND", "max"),
    "test_scatternd_min*": _REDUCTION.format("ScatterND", "min"),
    "test_scatternd_multiply": _REDUCTION.format("ScatterND", "mul"),
}
