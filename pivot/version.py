"""The tfjs-pivot version, read from the installed distribution."""

from __future__ import annotations

from importlib import metadata

try:
    __version__ = metadata.version("tfjs-pivot")
except metadata.PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+local"

CONVERTED_BY = f"tfjs-pivot v{__version__}"
