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


def test_stemming_is_safe_from_many_threads(monkeypatch) -> None:
    """Searches run in a thread pool; pure-Python Snowball stemmers keep state while stemming (the C PyStemmer, when
    installed, does not), so each thread needs its own."""
    import sys
    from concurrent.futures import ThreadPoolExecutor

    import snowballstemmer
    from snowballstemmer.english_stemmer import EnglishStemmer
    from snowballstemmer.porter_stemmer import PorterStemmer

    from pactkb.index.hybrid import porter_stem
    from pactkb.index.snippet import stem

    pure = {"porter": PorterStemmer, "english": EnglishStemmer}
    monkeypatch.setattr(snowballstemmer, "stemmer", lambda name: pure[name]())
    roots = ("financing", "laundering", "investigations", "smugglers", "networks", "proceedings", "seizures")

    def run(task: int) -> bool:
        words = [f"x{task}y{i}{root}" for i in range(100) for root in roots]  # unique words: no cache hits
        return (all(porter_stem(w) == PorterStemmer().stemWord(w) for w in words)
                and all(stem(w) == EnglishStemmer().stemWord(w) for w in words))

    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads often, so a shared stemmer would be caught mid-word
    try:
        with ThreadPoolExecutor(8) as pool:
            assert all(pool.map(run, range(16)))
    finally:
        sys.setswitchinterval(old)
