"""One BLAS thread inside the library's hot calls, whatever the environment says.

The network's matrices are small (a batch of 32 windows by 150 inputs by 100 hidden units), and
OpenBLAS's second thread costs more than it brings, many times more on a busy machine. The command
line sets ``OPENBLAS_NUM_THREADS=1`` before numpy loads; a Python program has already loaded numpy
with the default, so :func:`one_blas_thread` limits it for the duration of a call
(threadpoolctl, the well-kept way to do it) and gives the caller's setting back after.
"""

from __future__ import annotations

import contextlib

__all__ = ["one_blas_thread"]

_controller = None


def one_blas_thread():
    """A context manager limiting every loaded BLAS library to one thread (a no-op without
    threadpoolctl). The libraries are found once per process, at the first call."""
    global _controller
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:  # pragma: no cover - threadpoolctl is a dependency; this keeps a broken install running
        return contextlib.nullcontext()
    if _controller is None:
        import scipy.linalg.blas  # noqa: F401  (the per-example step's BLAS: loaded before the look-up)

        _controller = ThreadpoolController()
    return _controller.limit(limits=1, user_api="blas")
