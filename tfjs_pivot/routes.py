"""Direct routes between Keras files and tfjs layers models: the Keras config is carried over, never lowered."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from backends.base import BackendOptions, WriteResult
from backends.tfjs_layers.from_keras import write_keras_layers

# File names of the single-file Keras outputs inside the output directory (by output format).
KERAS_H5_NAME = "model.h5"
KERAS_ZIP_NAME = "model.keras"
KERAS_FILE_NAMES = {"keras": KERAS_H5_NAME, "keras_keras": KERAS_ZIP_NAME}


class RouteOptions(Protocol):
    """What a route reads from ``tfjs_pivot.convert.ConvertOptions``."""

    @property
    def backend(self) -> BackendOptions: ...


def _to_layers(source: Path, fmt: str, out_dir: Path, options: RouteOptions) -> WriteResult:
    from frontends.keras.checks import naming_file  # wiring: the reader lives with the frontends
    from frontends.keras.frontend import read_source

    src = read_source(source, fmt)
    with naming_file(source):  # the writer's refusals name the layer; the user also needs the file
        return write_keras_layers(src.spec, src.weights(), out_dir, options.backend,
                                  keras_version=src.keras_version, backend=src.backend)


def keras_to_tfjs_layers(source: Path, out_dir: Path, options: RouteOptions) -> WriteResult:
    """keras (HDF5) -> tfjs_layers_model."""
    return _to_layers(source, "keras", out_dir, options)


def keras_zip_to_tfjs_layers(source: Path, out_dir: Path, options: RouteOptions) -> WriteResult:
    """keras_keras (.keras) -> tfjs_layers_model."""
    return _to_layers(source, "keras_keras", out_dir, options)


def tfjs_layers_to_keras(source: Path, out_dir: Path, options: RouteOptions) -> WriteResult:
    """tfjs_layers_model -> keras: ``out_dir/model.h5`` (Keras HDF5, loadable by Keras 3)."""
    from backends.keras_out import write_keras_h5
    from frontends.keras.checks import naming_file
    from frontends.keras.frontend import read_source

    src = read_source(source, "tfjs_layers_model")
    with naming_file(source):
        write_keras_h5(src.spec, src.weights(), out_dir / KERAS_H5_NAME)
    return WriteResult((KERAS_H5_NAME,), {"weights": sum(len(w) for w in src.weights().values())})


def tfjs_layers_to_keras_zip(source: Path, out_dir: Path, options: RouteOptions) -> WriteResult:
    """tfjs_layers_model -> keras_keras: ``out_dir/model.keras`` (Keras 3 archive)."""
    from backends.keras_out import write_keras_zip
    from frontends.keras.checks import naming_file
    from frontends.keras.frontend import read_source

    src = read_source(source, "tfjs_layers_model")
    with naming_file(source):
        write_keras_zip(src.spec, src.weights(), out_dir / KERAS_ZIP_NAME)
    return WriteResult((KERAS_ZIP_NAME,), {"weights": sum(len(w) for w in src.weights().values())})


# (input format, output format) -> route, for tfjs_pivot.convert's table of direct routes.
ROUTES = {
    ("keras", "tfjs_layers_model"): keras_to_tfjs_layers,
    ("keras_keras", "tfjs_layers_model"): keras_zip_to_tfjs_layers,
    ("tfjs_layers_model", "keras"): tfjs_layers_to_keras,
    ("tfjs_layers_model", "keras_keras"): tfjs_layers_to_keras_zip,
}
