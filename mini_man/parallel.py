"""Independent runs spread over the cores: the command line's `--jobs` and the training notebooks (08-11).

Each run goes to a worker process that computes with ONE thread, so a run gives exactly the numbers it gives in one
process with one thread: every run seeds itself (`train.train_and_test`, `analysis.fit_and_test`), and no run reads
another's state. The results come back in the order of the calls.

On Linux the workers are forked from this process ("fork", ~0.1 s, as PyTorch's DataLoader workers are): they start
with torch and the data already imported, where a fresh interpreter ("spawn") takes ~2 s per call to import them
again. A forked worker must not use the thread pools it inherits, so it sets one thread before it computes (torch
then computes inline, without OpenMP). Elsewhere (macOS, Windows, where forking a process that holds system
frameworks is unsafe) the workers are spawned.
"""
import multiprocessing
import os
import sys
from concurrent.futures import ProcessPoolExecutor

import torch

CORES = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
START_METHOD = "fork" if sys.platform == "linux" else "spawn"  # how a worker process starts (see above)


def _one_thread() -> None:
    """Worker initialiser: one intra-op thread (the processes share the cores)."""
    torch.set_num_threads(1)


def call_all(calls: list, jobs: int = CORES) -> list:
    """[call() for call in calls], computed in min(jobs, len(calls)) worker processes of one thread each.

    Each call is a function of a module with its arguments bound, e.g. `functools.partial(train.train_and_test,
    "man", data, tcfg)` (a spawned worker cannot receive a function defined in a notebook); the arguments and
    results travel between the processes by pickling. Where workers are spawned (macOS, Windows), a script that
    calls this needs the `if __name__ == "__main__":` guard (a notebook does not). With jobs = 1 (or one call)
    everything runs here, with this process's threads. Raises ValueError for jobs < 1; an error in a run is raised
    here.
    """
    if jobs < 1:
        raise ValueError(f"jobs must be at least 1, got {jobs}")
    jobs = min(jobs, len(calls))
    if jobs <= 1:
        return [call() for call in calls]
    context = multiprocessing.get_context(START_METHOD)
    with ProcessPoolExecutor(jobs, mp_context=context, initializer=_one_thread) as pool:
        return [f.result() for f in [pool.submit(call) for call in calls]]
