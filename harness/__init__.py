"""harness: the benchmarking and load-testing side (generators, compare, reports, CLI)."""

import os

# numpy (percentiles, histograms) links OpenBLAS, whose worker threads would compete with
# the load loop for this machine's cores; the harness does no linear algebra.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
