"""Worker processes: every pool in spamdetect starts its workers from one fork server.

Workers start from a fork server, not by forking the calling process: a process that has already
run the model holds OpenMP threads, and a forked copy of it can hang on its first predict.

The server imports the worker code once (``preload``), so each worker starts in milliseconds
instead of importing numpy, the parser and the signals itself. (Bulk scoring's workers run the
numpy ``scorer.Scorer`` and never import scikit-learn; other pools, such as featurizing for
training, import what they need on first use.) It does so single-threaded: threads started at
import (OpenBLAS starts one per core, pyarrow's jemalloc a purging thread) do not survive a fork,
and workers forked from a threaded server hung at exit. Workers inherit these settings and run
one thread each.
"""

from __future__ import annotations

import multiprocessing
import os
from multiprocessing import forkserver

WORKER_MODULES = ("spamdetect.batch",)  # scoring: the numpy scorer, the signals and what they import
_ONE_THREAD = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
               "JE_ARROW_MALLOC_CONF": "background_thread:false"}


def pool_context(preload: tuple[str, ...] = WORKER_MODULES) -> multiprocessing.context.BaseContext:
    """The forkserver context, its server started (once per process) with ``preload`` imported.

    A later call's ``preload`` has no effect while the server runs. Cheap to call early (it imports
    nothing itself): the server then imports while the caller loads its own modules and the model.
    """
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["__main__", *preload])  # __main__: the default preload
    saved = {k: os.environ.get(k) for k in _ONE_THREAD}
    os.environ.update(_ONE_THREAD)  # the server's environment is this process's at its start
    try:
        forkserver.ensure_running()
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return ctx
