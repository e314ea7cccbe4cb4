"""Root pytest configuration for `pytest --nbval` (works from any working directory).

nbval compares every stored output of every notebook cell. Two adjustments, both documented in
`notes/nbval_and_anchors.md`: compare DataFrames by their text form only (their HTML carries version-specific
styling), and sanitise the few strings that legitimately change between runs.

The stored outputs of the training notebooks are exact to the printed digits, and a short training run amplifies
the last bit of every sum. Every notebook therefore starts with `notebook_setup`, which selects one CPU kernel set
(`mini_man.reproducibility.CPU_KERNELS`); the tests outside notebooks that compare with a notebook's numbers get
the same set here, before any test computes anything.

The notebooks run one after the other, each in a new kernel and with one thread, so one core idles while a notebook
runs. `KernelsAhead` starts the kernels of the next two notebooks on it meanwhile and imports there the libraries
the notebooks use, so that a first cell does not wait ~2-4 s for them; every cell still runs, in order, in a kernel
of its own.
"""
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from typing import NamedTuple

import nbval.plugin
import pytest
from nbval.kernel import RunningKernel

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


# Imported by the kernel started ahead, binding no name in the notebook's namespace (a notebook that forgets an import
# still fails): a later `import` of one of them finds it loaded, as a second `import` does.
AHEAD_IMPORTS = ("matplotlib.pyplot", "pandas", "torch", "mini_man.analysis", "mini_man.exercises", "mini_man.train")


class Ahead(NamedTuple):
    """A kernel being started ahead for a notebook run in folder `cwd`."""
    kernel_name: str
    cwd: str
    kernel: Future  # of the RunningKernel


class KernelsAhead:
    """Stands in for nbval's `RunningKernel(kernel_name, cwd, startup_timeout)`: the k-th call gets the kernel started
    for the k-th notebook of the run (`order`: their folders, which are the kernels' working folders) while earlier
    ones ran, and keeps the kernels of the next `DEPTH` notebooks starting, one after the other in a thread (a short
    notebook ends before the next kernel has imported everything). A call that finds none started for it starts
    one itself."""

    DEPTH = 2

    def __init__(self, order: list):
        self.order, self.calls = order, 0
        self.started = deque()  # `Ahead` entries, in the order of `order`
        self.thread = ThreadPoolExecutor(1)

    @staticmethod
    def start(kernel_name: str, cwd: str, startup_timeout: float) -> RunningKernel:
        """A new kernel in folder `cwd` that has imported `AHEAD_IMPORTS` (silently: no output, no history)."""
        kernel = RunningKernel(kernel_name, cwd=cwd, startup_timeout=startup_timeout)
        code = f"[__import__(m) for m in {AHEAD_IMPORTS!r}]"  # names bound only inside the comprehension
        msg_id = kernel.kc.execute(code, silent=True, store_history=False)
        kernel.await_reply(msg_id, timeout=startup_timeout)  # an import that fails fails again in the notebook
        kernel.await_idle(msg_id, timeout=startup_timeout)
        return kernel

    def __call__(self, kernel_name: str, cwd: str, startup_timeout: float = 60) -> RunningKernel:
        self.calls += 1
        started = self.started.popleft() if self.started else None
        if started and (started.kernel_name, started.cwd) == (kernel_name, cwd):
            kernel = started.kernel.result()
        else:  # not the run foreseen: start afresh
            self.close([started, *self.started])
            self.started.clear()
            kernel = self.start(kernel_name, cwd, startup_timeout)
        for nxt in self.order[self.calls + len(self.started):self.calls + self.DEPTH]:
            self.started.append(Ahead(kernel_name, nxt, self.thread.submit(self.start, kernel_name, nxt,
                                                                            startup_timeout)))
        return kernel

    @staticmethod
    def close(started: list) -> None:
        """Stop the kernels started ahead that no notebook took (`Ahead` entries, or None)."""
        for entry in started:
            if entry and entry.kernel.exception() is None:
                entry.kernel.result().stop()


@pytest.hookimpl(trylast=True)  # after -k and -m have deselected
def pytest_collection_modifyitems(session, config, items):
    """Kernels started ahead for the notebooks of this run, in the order they run."""
    notebooks = list(dict.fromkeys(item.parent for item in items if isinstance(item, nbval.plugin.IPyNbCell)))
    if len(notebooks) > 1:
        config.kernels_ahead = KernelsAhead([str(nb.fspath.dirname) for nb in notebooks])
        nbval.plugin.RunningKernel = config.kernels_ahead


def pytest_sessionfinish(session):
    ahead = getattr(session.config, "kernels_ahead", None)
    if ahead is not None:
        ahead.close(list(ahead.started))
        ahead.thread.shutdown()
        nbval.plugin.RunningKernel = RunningKernel
