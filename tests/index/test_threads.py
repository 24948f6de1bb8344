"""Thread settings for queries: passive OpenMP waiting by default, one BLAS thread during a search."""
import os
import subprocess
import sys

import numpy as np
from threadpoolctl import threadpool_info

from pactkb.index.threads import single_blas_thread


def blas_threads() -> list[int]:
    """Threads of every loaded BLAS library."""
    return [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]


def test_single_blas_thread_limits_and_restores() -> None:
    np.ones((4, 4)) @ np.ones((4, 4))
    before = blas_threads()
    assert before, "numpy's BLAS should be loaded"
    with single_blas_thread():
        assert blas_threads() == [1] * len(before)
    assert blas_threads() == before


def test_importing_pactkb_sets_passive_openmp_unless_the_user_chose() -> None:
    code = "import os, pactkb; print(os.environ['OMP_WAIT_POLICY'])"
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "PASSIVE"
    out = subprocess.run([sys.executable, "-c", code], env={**env, "OMP_WAIT_POLICY": "ACTIVE"}, capture_output=True,
                         text=True, check=True)
    assert out.stdout.strip() == "ACTIVE"
