"""pactkb: knowledge base and semantic search over law-enforcement guidelines."""

import os

# Thread pools on a small machine. A query is one short encode plus small matrix products; extra threads cost more
# in wake-ups and contention than they gain. OpenMP pools (torch's, FAISS's) would otherwise spin after each parallel
# region and starve each other, and numpy's OpenBLAS would wake a second thread for tiny products. Measured on 2
# cores (shared corpus, 95 queries): hybrid p50 ~44 -> ~25 ms, p95 ~60 -> ~33 ms; batch encoding and FAISS IVF
# training keep their speed. Must be set before numpy, torch or faiss is loaded; values the user set win.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

__version__ = "0.1.0"
