"""The four TensorFlow input formats as frontends; TensorFlow and tf2onnx are imported only when one is used."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx_ir as ir

from frontends.base import FrontendOptions
from frontends.tensorflow import hub
from frontends.tensorflow.frozen import FMT as FROZEN
from frontends.tensorflow.frozen import load_frozen, run_frozen, sniff_frozen
from frontends.tensorflow.lower import Io
from frontends.tensorflow.savedmodel import SavedModelRequest, is_saved_model_dir, load_saved_model, run_signature

__all__ = ["KerasSavedModelFrontend", "TfFrozenModelFrontend", "TfHubFrontend", "TfSavedModelFrontend"]

KERAS_MARKER = "keras_metadata.pb"  # written by tf.keras 2 ``model.save(dir)``
HUB_MARKER = "tfhub_module.pb"  # TF1 Hub format


def _hub_marked(path: Path) -> bool:
    return (path / HUB_MARKER).is_file() or hub.descriptor(path).is_file()


class _SavedModelBase:
    """A SavedModel-shaped input; remembers each path's last request so that ``reference`` runs the same one."""

    name = ""
    default_signatures: tuple[str, ...] = ("serving_default",)
    # The FrontendOptions fields this input reads (convert refuses the others when set).
    options = frozenset({"signature_name", "saved_model_tags", "strip_debug_ops", "control_flow_v2",
                         "structured_outputs_names"})

    def __init__(self) -> None:
        self._requests: dict[Path, SavedModelRequest] = {}

    def request(self, options: FrontendOptions, *, tags: tuple[str, ...] | None = None) -> SavedModelRequest:
        """The SavedModel request ``options`` ask for."""
        signatures = (options.signature_name,) if options.signature_name else self.default_signatures
        return SavedModelRequest(self.name, options.saved_model_tags if tags is None else tags, signatures,
                                 options.strip_debug_ops, options.structured_outputs_names)

    def load(self, path: Path, options: FrontendOptions) -> ir.Model:
        req = self.request(options)
        self._requests[path.resolve()] = req
        return load_saved_model(path, req)

    def reference(self, path: Path, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """TensorFlow's outputs of the signature, keyed like the converted model's outputs."""
        req = self._requests.get(path.resolve()) or self.request(FrontendOptions())
        return run_signature(path, req, feeds)


class TfSavedModelFrontend(_SavedModelBase):
    """TensorFlow SavedModel directories (``saved_model.pb`` + ``variables/``)."""

    name = "tf_saved_model"
    description = "TensorFlow SavedModel directory (one signature; default serving_default, tags serve)"

    def sniff(self, path: Path) -> bool:
        return is_saved_model_dir(path) and not (path / KERAS_MARKER).is_file() and not _hub_marked(path)


class KerasSavedModelFrontend(_SavedModelBase):
    """SavedModel directories written by tf.keras 2 ``model.save(dir)``; converted through their signature."""

    name = "keras_saved_model"
    description = "Keras SavedModel directory (tf.keras 2 model.save(dir)), converted through its signature"

    def sniff(self, path: Path) -> bool:
        return is_saved_model_dir(path) and (path / KERAS_MARKER).is_file()


class TfHubFrontend(_SavedModelBase):
    """TF Hub modules: a module folder, or a handle (URL) resolved through the TF Hub cache folder."""

    name = "tf_hub"
    description = "TF Hub module folder or handle (cached under $TFHUB_CACHE_DIR; signature default)"
    default_signatures = ("default", "serving_default")

    def sniff(self, path: Path) -> bool:
        return is_saved_model_dir(path) and _hub_marked(path)

    def _request_for(self, folder: Path, options: FrontendOptions) -> SavedModelRequest:
        # TF1 Hub modules keep their inference graph under the empty tag set, not "serve".
        tf1 = (folder / HUB_MARKER).is_file() and options.saved_model_tags == ("serve",)
        return self.request(options, tags=() if tf1 else None)

    def load(self, path: Path, options: FrontendOptions) -> ir.Model:
        folder = hub.resolve(path)
        req = self._request_for(folder, options)
        self._requests[folder.resolve()] = req
        return load_saved_model(folder, req)

    def reference(self, path: Path, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        folder = hub.resolve(path)
        req = self._requests.get(folder.resolve()) or self._request_for(folder, FrontendOptions())
        return run_signature(folder, req, feeds)


class TfFrozenModelFrontend:
    """Frozen TensorFlow graphs: a GraphDef ``.pb`` with constants for variables; output node names required."""

    name = FROZEN
    description = "Frozen TensorFlow graph (.pb GraphDef); needs --output-node-names"
    options = frozenset({"output_node_names", "strip_debug_ops", "control_flow_v2", "structured_outputs_names"})

    def __init__(self) -> None:
        self._outputs: dict[Path, list[Io]] = {}

    def sniff(self, path: Path) -> bool:
        return sniff_frozen(path)

    def load(self, path: Path, options: FrontendOptions) -> ir.Model:
        model, outputs = load_frozen(path, options.output_node_names, options.strip_debug_ops,
                                     options.structured_outputs_names)
        self._outputs[path.resolve()] = outputs
        return model

    def reference(self, path: Path, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray] | None:
        """TensorFlow's outputs for the output nodes of the last ``load`` of ``path`` (None before one)."""
        outputs = self._outputs.get(path.resolve())
        return None if outputs is None else run_frozen(path, outputs, feeds)
