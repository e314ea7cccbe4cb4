"""Independent runs spread over the cores: the command line's `--jobs` and the training notebooks (08-11).

Each run goes to a fresh worker process ("spawn": forking a process that holds torch's thread pools can hang) that
computes with ONE thread, so a run gives exactly the numbers it gives in one process with one thread: every run
seeds itself (`train.train_and_test`, `analysis.fit_and_test`), and no run reads another's state. The results come
back in the order of the calls.
"""
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor

import torch

CORES = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def _one_thread() -> None:
    """Worker initialiser: one intra-op thread (the processes share the cores)."""
    torch.set_num_threads(1)


def call_all(calls: list, jobs: int = CORES) -> list:
    """[call() for call in calls], computed in min(jobs, len(calls)) worker processes of one thread each.

    Each call is a function of a module with its arguments bound, e.g. `functools.partial(train.train_and_test,
    "man", data, tcfg)` (a function defined in a notebook cannot be sent to a worker); the arguments and results
    travel between the processes by pickling. A script that calls this needs the `if __name__ == "__main__":`
    guard of Python's "spawn" start method (a notebook does not). With jobs = 1 (or one call) everything runs here,
    with this process's threads. Raises ValueError for jobs < 1; an error in a run is raised here.
    """
    if jobs < 1:
        raise ValueError(f"jobs must be at least 1, got {jobs}")
    jobs = min(jobs, len(calls))
    if jobs <= 1:
        return [call() for call in calls]
    with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn"), initializer=_one_thread) as pool:
        return [f.result() for f in [pool.submit(call) for call in calls]]
