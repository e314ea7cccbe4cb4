"""Root pytest configuration for `pytest --nbval` (works from any working directory).

nbval compares every stored output of every notebook cell. Two adjustments, both documented in
`notes/nbval_and_anchors.md`: compare DataFrames by their text form only (their HTML carries version-specific
styling), and sanitise the few strings that legitimately change between runs.
"""
SANITIZE_PATTERNS = [
    (r"0x[0-9a-fA-F]+", "0xADDRESS"),  # object reprs with memory addresses
    (r"/tmp/ipykernel_\d+/\d+\.py", "IPYKERNEL_CELL"),  # warning locations inside the kernel
]


def pytest_collectstart(collector):
    if collector.fspath and collector.fspath.ext == ".ipynb":
        collector.skip_compare += ("text/html",)
        collector.sanitize_patterns.update(SANITIZE_PATTERNS)
