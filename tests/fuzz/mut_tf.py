"""A handful of TensorFlow frozen-graph cases (TensorFlow loads in seconds, so only where it counts)."""

from __future__ import annotations

from functools import partial

from tests.fuzz.case import Case, Workspace
from tests.fuzz.mut_bytes import flip, truncate
from tests.fuzz.wire import DT_FLOAT, DT_STRING, attr_tensor, attr_type, frozen_add, tf_node, tf_tensor


def read_file(ws: Workspace, name: str) -> None:
    """The graph reads a file named by a constant (ReadFile), and the result feeds the output."""
    target = name.format(canary=ws.canary)
    extra = (tf_node("fname", "Const", dtype=attr_type(DT_STRING),
                     value=attr_tensor(tf_tensor(DT_STRING, [], strings=(target.encode(),)))),
             tf_node("raw", "ReadFile", ("fname",)),
             tf_node("vals", "DecodeRaw", ("raw",), out_type=attr_type(DT_FLOAT)),
             tf_node("z", "AddV2", ("y", "vals"), T=attr_type(DT_FLOAT)))
    ws.source.write_bytes(frozen_add(extra=extra))
    ws.args[-1] = "z"


def huge_const(ws: Workspace, dims: tuple[int, ...]) -> None:
    """The constant declares ``dims`` while holding 16 bytes."""
    ws.source.write_bytes(frozen_add(dims=dims))


def cases() -> list[Case]:
    return [
        Case("hostile_path", "tf_frozen", "readfile-dotdot", partial(read_file, name="../canary.bin"),
             must_refuse=True),
        Case("hostile_path", "tf_frozen", "readfile-absolute", partial(read_file, name="{canary}"), must_refuse=True),
        Case("huge_shape", "tf_frozen", "const-2e40", partial(huge_const, dims=(1 << 40,))),
        Case("huge_shape", "tf_frozen", "const-2e31x2e31", partial(huge_const, dims=(1 << 31, 1 << 31))),
        Case("truncate", "tf_frozen", "model.pb@0.5", partial(truncate, name="model.pb", where=0.5)),
        Case("bitflip", "tf_frozen", "model.pb:8bits", partial(flip, name="model.pb", bits=8, region=None)),
    ]
