"""How the process gives memory back. glibc's malloc raises its mmap threshold each time a
large block is freed, so later large blocks (a password hash's 16 MiB, a request body, a
batch of vectors) come from per-thread arenas that keep them: a burst of sign-ups left the
server hundreds of MiB larger for good. A fixed threshold keeps large blocks mapped on
their own, so they return to the system when freed."""

from __future__ import annotations

import ctypes
import ctypes.util

M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter; setting it also stops its growth
LARGE_BLOCK_BYTES = 128 * 1024  # glibc's own starting threshold


def return_large_blocks() -> bool:
    """Fix the threshold where glibc starts it; False where the C library has no mallopt
    (macOS) or ignores it (musl)."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return False
    mallopt = getattr(libc, "mallopt", None)
    return mallopt is not None and bool(mallopt(M_MMAP_THRESHOLD, LARGE_BLOCK_BYTES))
