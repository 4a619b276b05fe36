"""knitter: keep, search and reuse your AI conversations."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("knitter")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0"
