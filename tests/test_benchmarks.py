"""The benchmark scripts stay runnable (no timing assertions: speed targets live in benchmarks/, not in tests)."""
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from mini_man import reference

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


def test_bench_full_ranking_replays_the_matrix_products_of_score_all():
    import bench_full_ranking

    setting = dict(TINY, batch=3)
    model = bench_train.build("man", setting).eval()
    hist = bench_full_ranking.histories(setting, "A")  # (3, 6)
    assert hist.shape == (3, 6) and ((hist > 0).sum(1) >= 1).all()
    calls = bench_full_ranking.recorded_matmuls(lambda: model.score_all("A", hist))
    assert any(shapes[0][0] > 3 for (_, shapes) in calls)  # ISA's (pairs, h1) blocks are among them
    matmuls, flops = bench_full_ranking.replay(calls)
    assert len(matmuls()) == sum(calls.values()) and flops > 0


def test_bench_scale_runs_and_tests_a_model(tmp_path):
    import bench_scale
    from mini_man import data, train
    from mini_man.sample import generate

    paths = generate(users=(40, 40), items=(60, 60), length=(14.0, 14.0), seed=0).write(tmp_path)[:2]
    d = data.prepare(*paths, kcore=1, split="loo")
    tcfg = train.TrainConfig(epochs=1)
    r = bench_scale.run_model("single", d, train.to_device(d, tcfg.device), tcfg)
    assert len(r["epoch_seconds"]) == 1 and 0 < r["test_seconds"] < r["whole_seconds"]
    assert all(0 <= v <= 1 for v in r["hr@10_full"].values())


def test_bench_per_target_times_real_training_steps_of_every_model(tmp_path):
    import json

    import bench_per_target
    from mini_man.sample import generate

    paths = generate(users=(40, 40), items=(60, 60), length=(14.0, 14.0), seed=0).write(tmp_path)[:2]
    out = tmp_path / "bench.json"
    r = bench_per_target.main(["--domain-a", str(paths[0]), "--domain-b", str(paths[1]), "--kcore", "1",
                               "--steps", "2", "--warmup", "1", "--out", str(out)])
    assert json.loads(out.read_text())["man_every_position_per_target_over_sasrec"] > 0
    runs = r["runs"]
    assert set(runs) == {"man", "man-ep", "man-ep (K = 1)", "man-ep (batch 128)", "man-ep (batch 128, K = 1)",
                         "man-ep (sasrec's build)", "man-ep (as sasrec)", "sasrec"}
    assert runs["man-ep (as sasrec)"]["batch_size"] == 128 and runs["man-ep (as sasrec)"]["n_neg"] == 1
    assert 0 < runs["man"]["targets"] <= 2 * 128  # two timed steps of at most 128 instances
    assert runs["man-ep"]["batch_size"] == 16 and runs["man-ep"]["targets"] > 2 * 16  # many targets per sequence
    assert runs["man-ep"]["n_neg"] == 9 and runs["sasrec"]["n_neg"] == 1 and runs["man-ep (K = 1)"]["n_neg"] == 1
    assert all(x["seconds"] > 0 and x["targets"] > 0 for x in runs.values())
    assert r["man_per_target_over_sasrec"] == runs["man"]["seconds_per_target"] / runs["sasrec"]["seconds_per_target"]
    # per converged run: the committed runs' epochs times this data's targets per epoch, at the measured speed
    man = r["per_run"]["man"]
    committed = reference.report("sample-plain", "man")["runs"]["man"]
    assert man["targets"] == pytest.approx(np.mean([sum(run["last_epoch"][x] * runs["man"]["targets_per_epoch"][x]
                                                        for x in "AB") for run in committed]))
    assert man["seconds"] == pytest.approx(man["targets"] * runs["man"]["seconds_per_target"])
