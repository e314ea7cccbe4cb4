"""Numbers that never mislead: a NaN/inf score has no rank, a diverged run stops with one line (issue 12)."""
import math
from dataclasses import replace

import numpy as np
import pytest
import torch

from mini_man import cli, metrics, train
from test_train import write_tiny


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_sampled_metrics_refuse_non_finite_scores(bad):
    scores = np.zeros((3, 10))
    scores[1, 0] = bad  # a NaN positive would otherwise rank first (no negative compares >= NaN)
    with pytest.raises(ValueError, match=r"1 of 30 scores are NaN or infinite.*did training diverge") as err:
        metrics.sampled_metrics(scores, np.zeros(3))
    assert "\n" not in str(err.value)
    with pytest.raises(ValueError, match="NaN or infinite"):
        metrics.auc(scores.ravel(), np.r_[1, np.zeros(29)])


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_full_ranks_refuse_non_finite_scores(bad):
    scores = np.tile(np.linspace(0, 1, 8), (2, 1))
    scores[0, 3] = bad  # before: a NaN target counted no item >= it and ranked 1 (HR@10 = 1.0)
    with pytest.raises(ValueError, match="1 of 16 scores are NaN or infinite"):
        metrics.full_ranks(scores, np.array([3, 7]), np.zeros((2, 2), np.int64))


def test_check_finite_names_domain_epoch_and_remedy():
    model = torch.nn.Linear(2, 2)
    tcfg = train.TrainConfig(lr=0.5)
    train.check_finite(model, {"A": 0.7, "B": 0.6}, 1, tcfg)  # finite: nothing happens
    with pytest.raises(train.Diverged, match=r"^training diverged at epoch 4 in domain B: training loss nan; try a "
                                             r"lower learning rate than 0\.5$"):
        train.check_finite(model, {"A": 0.7, "B": math.nan}, 4, tcfg)
    with pytest.raises(train.Diverged, match=r"lower learning rate than 0\.5 or weight decay than 1$"):
        train.check_finite(model, {"A": math.inf}, 4, replace(tcfg, weight_decay=1.0))
    with torch.no_grad():
        model.weight[0, 0] = math.inf
    with pytest.raises(train.Diverged, match=r"epoch 2 \(a weight is NaN or infinite\)"):
        train.check_finite(model, {"A": 0.7}, 2, tcfg)
    assert issubclass(train.Diverged, ValueError)


@pytest.mark.slow
def test_a_diverged_run_ends_with_one_line_and_exit_2(tmp_path, capsys):
    a, b = write_tiny(tmp_path)
    argv = ["--domain-a", str(a), "--domain-b", str(b), "--kcore", "3", "--max-len", "8", "--epochs", "2",
            "--batch-size", "4096", "--models", "man", "--lr", "1e30", "--weight-decay", "0",
            "--full-ranking", "0"]  # plain Adam: lr 1e30 x the default grid's weight decay 1 is refused up front
    with pytest.raises(SystemExit) as exit_:
        cli.main(argv)
    err = capsys.readouterr().err
    last = err.strip().splitlines()[-1]
    assert exit_.value.code == 2 and "Traceback" not in err
    assert "data A: format amazon2014, users" in err
    assert last.startswith("python -m mini_man.train: error: model man, seed 0: training diverged at epoch 1")
    assert last.endswith("try a lower learning rate than 1e+30")
