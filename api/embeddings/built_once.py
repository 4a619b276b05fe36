"""Model files derived from the packaged weights (the ONNX export, the static model), built
once per machine under the model folder."""

from __future__ import annotations

import multiprocessing
import os
import shutil
import tempfile
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path


def build_once(
    target: Path, build: Callable[[Path, Path], None], source: Path, manifest: str
) -> Path:
    """target, built by build(source, folder) the first time. build writes `manifest` last,
    so a folder that has it is complete. It runs in a child process: building needs torch,
    which would otherwise stay in the server's memory for good. Concurrent processes each
    build in a temporary folder beside target and the first rename wins: a half-written
    folder is never seen."""
    if (target / manifest).exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        spawn = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=1, mp_context=spawn) as child:
            child.submit(build, source, work).result()  # its exception, if any, re-raised
        try:
            os.rename(work, target)
        except OSError:
            if not (target / manifest).exists():
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return target
