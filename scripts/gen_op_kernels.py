"""Records which tfjs kernels each emitted graph op runs, by profiling every per-op parity case in real TensorFlow.js.

Usage: python scripts/gen_op_kernels.py  (writes backends/tfjs_graph/data/op_kernels.json)

The per-backend kernel lists say which kernels a backend registers; this map says which kernels
a graph-model op needs. It is measured, not hand-written: every case of tests/cases is converted,
and the Node runner profiles each graph node (kernels of the node minus kernels of its inputs).
The supported-ops table combines both. A few zero-trip loop cases crash the profiler (not the model:
their parity tests pass); they are skipped and reported.
"""

from __future__ import annotations

import json
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

import numpy as np
import onnx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
OUT = ROOT / "backends" / "tfjs_graph" / "data" / "op_kernels.json"


def main() -> None:
    from backends.base import BackendOptions
    from backends.tfjs_graph.support import EXECUTOR_OPS
    from backends.tfjs_runtime import TfjsRunError, TfjsRuntime
    from tests.cases import all_cases
    from tfjs_pivot.convert import ConvertOptions, convert

    kernel_names = set(json.loads((OUT.parent / "tfjs-kernels-4.22.json").read_text())["core_kernel_names"])
    seen: dict[str, set[str]] = defaultdict(set)
    failed = 0
    runtime = TfjsRuntime()
    with tempfile.TemporaryDirectory() as tmp:
        for case in all_cases():
            if case.xfail or case.refused:
                continue
            src, out = Path(tmp) / f"{case.id}.onnx", Path(tmp) / case.id
            onnx.save(case.model(), src)
            try:
                convert(src, out, ConvertOptions(overwrite=True, backend=BackendOptions(require_backend=None)))
                per_node = runtime.kernels(out / "model.json", case.inputs(np.random.default_rng(0)))
            except (TfjsRunError, Exception) as e:  # a case that does not convert adds nothing
                print(f"skip {case.id}: {e}", file=sys.stderr)
                failed += 1
                if "worker exited" in str(e):  # a profile that crashed tfjs: go on with a fresh worker
                    runtime.close()
                    runtime = TfjsRuntime()
                continue
            ops = {n["name"]: n["op"] for n in json.loads((out / "model.json").read_text())["modelTopology"]["node"]}
            for node, kernels in per_node.items():
                if ops[node] not in EXECUTOR_OPS:  # a loop's kernels belong to the ops of its body
                    seen[ops[node]].update(k for k in kernels if k in kernel_names)
    runtime.close()
    doc = {"source": "scripts/gen_op_kernels.py: tf.profile of every graph node of the tests/cases models "
                     "(cpu backend, @tensorflow/tfjs 4.22.0)",
           "ops": {op: sorted(kernels) for op, kernels in sorted(seen.items())}}
    OUT.write_text(json.dumps(doc, indent=1) + "\n")
    print(f"wrote {OUT.relative_to(ROOT)}: {len(seen)} ops ({failed} cases skipped)")


if __name__ == "__main__":
    main()
