"""Root pytest configuration for `pytest --nbval` (works from any working directory).

nbval compares every stored output of every notebook cell. Two adjustments, both documented in
`notes/nbval_and_anchors.md`: compare DataFrames by their text form only (their HTML carries version-specific
styling), and sanitise the few strings that legitimately change between runs.

The stored outputs of the training notebooks are exact to the printed digits, and a short training run amplifies
the last bit of every sum. Every notebook therefore starts with `notebook_setup`, which selects one CPU kernel set
(`mini_man.reproducibility.CPU_KERNELS`); the tests outside notebooks that compare with a notebook's numbers get
the same set here, before any test computes anything.
"""
from mini_man.reproducibility import pin_cpu_kernels

pin_cpu_kernels()
SANITIZE_PATTERNS = [
    (r"0x[0-9a-fA-F]+", "0xADDRESS"),  # object reprs with memory addresses
    (r"/tmp/ipykernel_\d+/\d+\.py", "IPYKERNEL_CELL"),  # warning locations inside the kernel
]


def pytest_collectstart(collector):
    if collector.fspath and collector.fspath.ext == ".ipynb":
        collector.skip_compare += ("text/html",)
        collector.sanitize_patterns.update(SANITIZE_PATTERNS)
