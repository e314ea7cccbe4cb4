"""The benchmark scripts stay runnable (no timing assertions: speed targets live in benchmarks/, not in tests)."""
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
import bench_train  # noqa: E402
import check_gpu  # noqa: E402

TINY = dict(batch=8, n_items={"A": 50, "B": 40}, n_global=85, cfg=dict(item_dim=8, domain_dim=4, max_len=6))


def test_bench_train_measures_a_training_step_that_learns():
    model = bench_train.build("man", TINY)
    before = [p.detach().clone() for p in model.parameters()]
    seconds = bench_train.median_seconds({"man": bench_train.training_step(model, TINY, K=9)}, repeats=2, warmup=1)
    assert seconds["man"] > 0
    changed = [not torch.equal(b, p) for b, p in zip(before, model.parameters())]
    assert any(changed), "the timed step must update the parameters"


def test_gpu_check_skips_cleanly_without_cuda(capsys, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert check_gpu.main() == 0
    assert "skipped" in capsys.readouterr().out
