"""Model files derived from the packaged weights (the ONNX export, the static model), built
once per machine under the model folder."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path


def build_once(target: Path, build: Callable[[Path], None], manifest: str) -> Path:
    """target, built by build(folder) the first time. build writes `manifest` last, so a
    folder that has it is complete. Concurrent processes each build in a temporary folder
    beside target and the first rename wins: a half-written folder is never seen."""
    if (target / manifest).exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        build(work)
        try:
            os.rename(work, target)
        except OSError:
            if not (target / manifest).exists():
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return target
