"""Core layers: Dense, activations, identity-at-inference layers."""

from __future__ import annotations

from typing import Any

from tests.keras_cases import KerasCase, functional

_ACTIVATIONS = ("relu", "sigmoid", "tanh", "elu", "selu", "softplus", "softsign", "exponential", "mish", "celu",
                "hard_sigmoid", "swish", "silu", "gelu", "relu6", "log_sigmoid", "hard_tanh", "tanh_shrink",
                "squareplus", "sparse_plus", "hard_silu", "leaky_relu", "softmax", "log_softmax", "linear")


def _act(name: str) -> KerasCase:
    return KerasCase(f"activation_{name}", "Activation",
                     lambda k: functional(k, (6,), k.layers.Dense(5), k.layers.Activation(name)))


def _seq(*make: Any) -> Any:
    return lambda k: functional(k, (7,), *(m(k) for m in make))


CASES = [
    KerasCase("dense", "Dense", lambda k: functional(k, (7,), k.layers.Dense(5))),
    KerasCase("dense_relu_nobias", "Dense", lambda k: functional(k, (7,), k.layers.Dense(5, activation="relu",
                                                                                          use_bias=False))),
    KerasCase("dense_rank3", "Dense", lambda k: functional(k, (4, 7), k.layers.Dense(3, activation="tanh"))),
    *(_act(a) for a in _ACTIVATIONS),
    KerasCase("relu_layer", "ReLU", lambda k: functional(k, (7,), k.layers.ReLU(max_value=0.5, negative_slope=0.1,
                                                                                threshold=0.2))),
    KerasCase("leaky_relu_layer", "LeakyReLU", lambda k: functional(k, (7,), k.layers.LeakyReLU(negative_slope=0.2))),
    KerasCase("elu_layer", "ELU", lambda k: functional(k, (7,), k.layers.ELU(alpha=0.7))),
    KerasCase("softmax_layer", "Softmax", lambda k: functional(k, (3, 7), k.layers.Softmax(axis=1))),
    KerasCase("prelu_shared", "PReLU", lambda k: functional(k, (4, 6), k.layers.PReLU(shared_axes=[1]))),
    KerasCase("dropout", "Dropout", lambda k: functional(k, (7,), k.layers.Dropout(0.5), k.layers.Dense(3))),
    KerasCase("gaussian_noise", "GaussianNoise", lambda k: functional(k, (7,), k.layers.GaussianNoise(0.3))),
    KerasCase("gaussian_dropout", "GaussianDropout", lambda k: functional(k, (7,), k.layers.GaussianDropout(0.3))),
    KerasCase("spatial_dropout", "SpatialDropout2D",
              lambda k: functional(k, (4, 4, 3), k.layers.SpatialDropout2D(0.3))),
    KerasCase("spatial_dropout1d", "SpatialDropout1D",
              lambda k: functional(k, (5, 3), k.layers.SpatialDropout1D(0.3), k.layers.Dense(2))),
    KerasCase("spatial_dropout3d", "SpatialDropout3D",
              lambda k: functional(k, (3, 4, 4, 2), k.layers.SpatialDropout3D(0.3), k.layers.Dense(2))),
    KerasCase("alpha_dropout", "AlphaDropout", lambda k: functional(k, (7,), k.layers.AlphaDropout(0.3),
                                                                   k.layers.Dense(3))),
    KerasCase("activity_regularization", "ActivityRegularization",
              lambda k: functional(k, (7,), k.layers.Dense(3), k.layers.ActivityRegularization(l1=0.1))),
]
