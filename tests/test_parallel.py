"""`parallel.call_all`: the runs of the command line's --jobs and of notebooks 08-10 (training equality across
processes is tested in test_cli.py::test_jobs_train_in_parallel_processes_with_the_results_of_one_process)."""
import operator
from functools import partial

import pytest
import torch

from mini_man import parallel


def test_results_come_back_in_the_order_of_the_calls_from_one_thread_workers():
    calls = [partial(operator.mul, i, 10) for i in range(5)] + [partial(torch.get_num_threads)] * 2
    assert parallel.call_all(calls, jobs=2) == [0, 10, 20, 30, 40, 1, 1]


def test_one_job_runs_here_with_this_process_threads():
    assert parallel.call_all([partial(torch.get_num_threads)], jobs=1) == [torch.get_num_threads()]


def test_an_error_in_a_worker_is_raised_and_jobs_below_one_are_refused():
    with pytest.raises(ZeroDivisionError):
        parallel.call_all([partial(operator.truediv, 1, 0), partial(operator.add, 1, 1)], jobs=2)
    with pytest.raises(ValueError, match="at least 1"):
        parallel.call_all([], jobs=0)
