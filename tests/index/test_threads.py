"""Thread settings: passive OpenMP waiting and one OpenBLAS thread by default; stemming safe from many threads."""

import os
import subprocess
import sys


def test_importing_pactkb_sets_small_thread_pools_unless_the_user_chose() -> None:
    code = (
        "import os, pactkb, numpy; from threadpoolctl import threadpool_info; "
        "print(os.environ['OMP_WAIT_POLICY'], [i['num_threads'] for i in threadpool_info() if i['user_api'] == 'blas'])"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "OPENBLAS_NUM_THREADS")}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "PASSIVE [1]"
    out = subprocess.run(
        [sys.executable, "-c", code],
        env={**env, "OMP_WAIT_POLICY": "ACTIVE", "OPENBLAS_NUM_THREADS": "2"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "ACTIVE [2]"


def test_stemming_is_safe_from_many_threads(monkeypatch) -> None:
    """Searches run in a thread pool; pure-Python Snowball stemmers keep state while stemming (the C PyStemmer, when
    installed, does not), so each thread needs its own."""
    from concurrent.futures import ThreadPoolExecutor

    import snowballstemmer
    from snowballstemmer.english_stemmer import EnglishStemmer
    from snowballstemmer.porter_stemmer import PorterStemmer

    from pactkb.index.fold import porter_stem
    from pactkb.index.snippet import stem

    pure = {"porter": PorterStemmer, "english": EnglishStemmer}
    monkeypatch.setattr(snowballstemmer, "stemmer", lambda name: pure[name]())
    roots = ("financing", "laundering", "investigations", "smugglers", "networks", "proceedings", "seizures")

    def run(task: int) -> bool:
        words = [f"x{task}y{i}{root}" for i in range(100) for root in roots]  # unique words: no cache hits
        return all(porter_stem(w) == PorterStemmer().stemWord(w) for w in words) and all(
            stem(w) == EnglishStemmer().stemWord(w) for w in words
        )

    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads often, so a shared stemmer would be caught mid-word
    try:
        with ThreadPoolExecutor(8) as pool:
            assert all(pool.map(run, range(16)))
    finally:
        sys.setswitchinterval(old)
