"""Runs emitted models in real TensorFlow.js (Node.js), many models per Node process."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import threading
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

import numpy as np

from pivot.errors import ConversionError, InputError, RuntimeUnavailableError

RUNTIME_DIR = Path(__file__).resolve().parent
TfjsBackend = Literal["cpu", "wasm"]
_FROM_TFJS = {"float32": np.float32, "int32": np.int32, "bool": np.bool_}


class TfjsRunError(ConversionError):
    """TensorFlow.js refused to load or run a model; the message is tfjs's own."""


def install_hint() -> str:
    """How to install what the runtime needs."""
    return f"install Node.js >= 18 and run: npm ci --prefix {RUNTIME_DIR}"


def _to_tfjs(arr: np.ndarray) -> tuple[str, np.ndarray]:
    # tfjs holds only float32, int32 and bool: wider types narrow the way the emitted model does.
    if arr.dtype == np.bool_:
        return "bool", arr.astype(np.uint8)
    if arr.dtype.kind == "f":
        return "float32", arr.astype(np.float32)
    if arr.dtype.kind in "iu":
        return "int32", arr.astype(np.int32)
    raise InputError(f"an input of dtype {arr.dtype} cannot be fed to TensorFlow.js (float, int or bool only)")


def _encode(name: str, arr: np.ndarray) -> dict[str, Any]:
    dtype, data = _to_tfjs(np.asarray(arr))
    return {"name": name, "dtype": dtype, "shape": list(data.shape),
            "b64": base64.b64encode(np.ascontiguousarray(data).astype(data.dtype.newbyteorder("<")).tobytes()).decode()}


def _decode(spec: dict[str, Any]) -> np.ndarray:
    raw = base64.b64decode(spec["b64"])
    if spec["dtype"] == "bool":
        return np.frombuffer(raw, dtype=np.uint8).astype(np.bool_).reshape(spec["shape"])
    return np.frombuffer(raw, dtype=np.dtype(_FROM_TFJS[spec["dtype"]]).newbyteorder("<")).reshape(spec["shape"])


class TfjsRuntime:
    """A persistent Node worker (``runner.mjs``); use as a context manager or call ``close``."""

    def __init__(self) -> None:
        node = shutil.which("node")
        if node is None:
            raise RuntimeUnavailableError(f"Node.js was not found; {install_hint()}")
        if not (RUNTIME_DIR / "node_modules" / "@tensorflow" / "tfjs").is_dir():
            raise RuntimeUnavailableError(f"the TensorFlow.js packages are not installed; {install_hint()}")
        self._proc = subprocess.Popen([node, str(RUNTIME_DIR / "runner.mjs")], cwd=RUNTIME_DIR, text=True,
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self._lock = threading.Lock()
        self._next_id = 0
        self._stderr: list[str] = []
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self) -> None:
        assert self._proc.stderr is not None
        for line in self._proc.stderr:
            self._stderr.append(line)
            del self._stderr[:-50]

    def request(self, body: dict[str, Any]) -> dict[str, Any]:
        """Send one request and wait for its response; raises ``TfjsRunError`` on failure."""
        with self._lock:
            self._next_id += 1
            body = {"id": self._next_id, **body}
            assert self._proc.stdin is not None and self._proc.stdout is not None
            try:
                self._proc.stdin.write(json.dumps(body) + "\n")
                self._proc.stdin.flush()
                line = self._proc.stdout.readline()
            except BrokenPipeError:
                line = ""
            if not line:
                raise TfjsRunError("the TensorFlow.js worker exited: " + "".join(self._stderr[-5:]).strip())
        try:
            reply = json.loads(line)
        except ValueError:  # the worker printed something else than its JSON reply (a crash report)
            raise TfjsRunError(f"the TensorFlow.js worker answered {line.strip()[:200]!r}") from None
        if not isinstance(reply, dict):
            raise TfjsRunError(f"the TensorFlow.js worker answered {line.strip()[:200]!r}")
        if not reply.get("ok"):
            raise TfjsRunError(reply.get("error", "unknown error"))
        return reply

    def run(self, model_json: Path, inputs: dict[str, np.ndarray], *, backend: TfjsBackend = "cpu",
            outputs: list[str] | None = None, kind: Literal["graph", "layers"] = "graph") -> dict[str, np.ndarray]:
        """Load ``model_json`` with tfjs, feed ``inputs`` by name, return outputs by name."""
        reply = self.request({"op": "run", "model": str(Path(model_json).resolve()), "kind": kind,
                              "backend": backend, "outputs": outputs,
                              "inputs": [_encode(k, v) for k, v in inputs.items()]})
        return {o["name"]: _decode(o) for o in reply["outputs"]}

    def weights(self, model_json: Path, *, backend: TfjsBackend = "cpu",
                kind: Literal["graph", "layers"] = "graph") -> dict[str, np.ndarray]:
        """Every weight as tfjs decoded it (dequantized), by manifest name."""
        reply = self.request({"op": "weights", "model": str(Path(model_json).resolve()), "kind": kind,
                              "backend": backend})
        return {w["name"]: _decode(w) for w in reply["weights"]}

    def kernels(self, model_json: Path, inputs: dict[str, np.ndarray], *,
                backend: TfjsBackend = "cpu") -> dict[str, list[str]]:
        """The tfjs kernels each graph node runs (profiled), by node name."""
        reply = self.request({"op": "kernels", "model": str(Path(model_json).resolve()), "kind": "graph",
                              "backend": backend, "inputs": [_encode(k, v) for k, v in inputs.items()]})
        return dict(reply["nodes"])

    def profile(self, model_json: Path, inputs: dict[str, np.ndarray], *, backend: TfjsBackend = "wasm",
                runs: int = 10, warmup: int = 2) -> dict[str, Any]:
        """Latency of ``runs`` runs, then kernel wall times per graph node (means per run) of ``runs`` more.

        The keys are those of runner.mjs's ``profile`` reply: ``latency_ms``, ``profiled_ms`` (per run),
        ``nodes`` (``name``, ``op``, ``ms``, ``kernels``: kernel -> [ms, calls]) in execution order,
        ``unattributed``, ``tf_profile_kernel_ms``, ``mode``, ``backend``, ``threads``, ``tfjs``.
        """
        reply = self.request({"op": "profile", "model": str(Path(model_json).resolve()), "kind": "graph",
                              "backend": backend, "runs": runs, "warmup": warmup,
                              "inputs": [_encode(k, v) for k, v in inputs.items()]})
        return dict(reply["profile"])

    def close(self) -> None:
        """Stop the worker."""
        if self._proc.poll() is None:
            assert self._proc.stdin is not None
            self._proc.stdin.close()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()

    def __enter__(self) -> TfjsRuntime:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()
