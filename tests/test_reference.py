"""mini_man.reference: the committed results, grid-combined as the trainer's grid options would keep them."""
import json
import math

import pytest

from mini_man import compare, reference


@pytest.fixture
def fake_results(tmp_path, monkeypatch):
    """A results folder with two tiny reports of one command, weight decay 0 and 1, and a setting over them."""
    def run(seed, valid, test):
        return {"seed": seed, "best_valid": valid, "best_epoch": {"A": 3, "B": 4}, "last_epoch": {"A": 8, "B": 9},
                "seconds": 10.0, "results": {d: {"auc": test[d]} for d in "AB"}}
    plain = {"runs": {"m": [run(0, {"A": 0.70, "B": 0.60}, {"A": 0.80, "B": 0.70}),
                            run(1, {"A": 0.71, "B": 0.55}, {"A": 0.81, "B": 0.60})]}}
    decay = {"runs": {"m": [run(0, {"A": 0.69, "B": 0.65}, {"A": 0.90, "B": 0.75}),
                            run(1, {"A": 0.71, "B": 0.50}, {"A": 0.70, "B": 0.50})]}}
    for name, rep in (("plain", plain), ("decay", decay)):
        (tmp_path / f"{name}.json").write_text(json.dumps(rep))
    monkeypatch.setattr(reference, "RESULTS", tmp_path)
    monkeypatch.setitem(reference.SETTINGS, "toy", {"what": "", "command": "", "made_by": "make toy",
                                                    "models": {"m": {"0": "plain", "1": "decay"}, "p": "plain"}})
    monkeypatch.setitem(reference.SETTINGS, "toy-plain", {"what": "", "command": "", "made_by": "make toy",
                                                          "models": {"m": "plain"}})
    monkeypatch.setitem(reference.SETTINGS, "gone", {"what": "", "command": "", "made_by": "make gone",
                                                     "models": "missing_file"})
    reference.clear_cache()
    yield tmp_path
    reference.clear_cache()


def test_a_grid_keeps_per_seed_and_domain_the_better_validation_score_first_label_on_a_tie(fake_results):
    # seed 0: A valid 0.70 (wd 0) > 0.69, B 0.65 (wd 1) > 0.60; seed 1: A tie 0.71 -> the first label, B 0.55 (wd 0)
    assert reference.kept("toy", "m", "A") == ["0", "0"] and reference.kept("toy", "m", "B") == ["1", "0"]
    assert reference.per_seed("toy", "m", "A") == {0: 0.80, 1: 0.81}
    assert reference.per_seed("toy", "m", "B") == {0: 0.75, 1: 0.60}
    mean, std, n = reference.summary("toy", "m", "B")
    assert (mean, n) == (pytest.approx(0.675), 2) and std == pytest.approx(math.sqrt(2 * 0.075 ** 2))
    assert reference.report("toy", "m")["runs"]["m"][0]["seconds"] == 20.0  # the grid costs both runs


def test_paired_is_the_mean_difference_with_a_95_percent_t_interval(fake_results):
    with pytest.raises(ValueError, match="model 'p' is not in this file"):
        reference.paired("toy", "m", "p", "B")
    assert reference.paired("toy", "m", "m", "B") == (0.0, 0.0, 0.0, 2)
    # B: the grid 0.75, 0.60 against plain Adam 0.70, 0.60: differences 0.05, 0.00, mean 0.025, std 0.025 * sqrt(2),
    # t(0.975, 1) = 12.706
    mean, low, high, n = reference.paired("toy", "m", "m", "B", against="toy-plain")
    half = 12.7062 * 0.025 * math.sqrt(2) / math.sqrt(2)
    assert (mean, n) == (pytest.approx(0.025), 2) and (low, high) == pytest.approx((0.025 - half, 0.025 + half), 1e-4)


def test_unknown_names_and_missing_files_are_one_line_errors_naming_the_remedy(fake_results):
    with pytest.raises(ValueError, match="no setting 'nope' \\(known: .*sample"):
        reference.summary("nope", "man", "A")
    with pytest.raises(ValueError, match="setting 'toy' has no model 'man' \\(it has m, p\\)"):
        reference.summary("toy", "man", "A")
    with pytest.raises(FileNotFoundError, match="missing_file.json is not there: it is written by `make gone`"):
        reference.models("gone")


def test_the_first_runs_five_seeds_are_the_plain_adam_runs_of_its_models():
    assert reference.models("first-run") == ["man", "single", "sasrec", "pop"]
    for model in reference.models("first-run"):
        assert reference.per_seed("first-run", model, "B") == reference.per_seed("sample-plain", model, "B")
        assert reference.summary("first-run", model, "A")[2] == 5


def test_the_samples_recipe_as_committed():
    """The headline numbers of README.md and docs/results.md, from the committed files."""
    mean, std, n = reference.summary("sample", "man", "A")
    assert (round(mean, 3), round(std, 3), n) == (0.838, 0.014, 5)
    assert [round(x, 4) for x in reference.paired("sample", "man", "sasrec", "B")[:3]] == [-0.0294, -0.0412, -0.0175]
    assert reference.kept("sample", "man", "A") == ["0", "1", "1", "0", "0"]
    assert reference.kept("sample", "single", "B") == ["0"] * 5  # with weight decay it stays on the plateau
    assert reference.summary("sample-plain", "man", "B")[1] > 0.04 > reference.summary("sample", "man", "B")[1]
    for setting in reference.SETTINGS:  # every committed setting reads (the first run once it is committed)
        for model in reference.models(setting):
            assert all(0 < v < 1 for v in reference.per_seed(setting, model, "B").values())


def test_the_combination_equals_the_grid_run_of_the_main_job():
    """The grid in one command ran the weight-decay grid (seed 0): its test metrics and the weight decay it kept
    are those of seed 0 of the combined halves."""
    for model in ("man", "single", "shared", "sasrec"):
        (job,) = reference.report("main-job", model)["runs"][model]
        combined = reference.report("sample", model)["runs"][model][0]
        assert job["seed"] == combined["seed"] == 0
        for d in "AB":
            assert f"{job['weight_decay'][d]:g}" == combined["setting"][d]
            for metric in ("auc", "gauc", "mrr", "ndcg@10"):
                assert job["results"][d][metric] == pytest.approx(combined["results"][d][metric], abs=1e-9)


def test_the_first_run_is_seed_0_of_its_five_seeds():
    """`python -m mini_man.train` as committed (docs/results/first_run.json: two processes, one thread per run) gives
    seed 0 of the plain-Adam runs that the first run's 5-seed table reads (one process, one thread): the same best
    epochs and test metrics, full ranking included."""
    first = compare.load(reference.RESULTS / "first_run.json")
    assert first["config"]["jobs"] == 2 and first["config"]["threads"] == 1
    assert list(first["runs"]) == reference.models("first-run") == ["man", "single", "sasrec", "pop"]
    for model in first["runs"]:
        (run,) = first["runs"][model]
        seed0 = reference.report("first-run", model)["runs"][model][0]
        assert run["seed"] == seed0["seed"] == 0
        assert run["best_epoch"] == seed0["best_epoch"] and run["last_epoch"] == seed0["last_epoch"]
        for d in "AB":
            for metric, value in run["results"][d].items():
                if isinstance(value, float):
                    assert value == pytest.approx(seed0["results"][d][metric], abs=1e-9), (model, d, metric)


def test_the_first_runs_order_holds_on_every_seed():
    """README.md: on each of the five seeds, `sasrec` is ahead of `man` and `single` in both domains, and every
    model is ahead of `pop` (test AUC)."""
    for d in reference.DOMAINS:
        auc = {m: reference.per_seed("first-run", m, d) for m in ("man", "single", "sasrec", "pop")}
        for seed in auc["sasrec"]:
            assert auc["sasrec"][seed] > max(auc["man"][seed], auc["single"][seed]) > auc["pop"][seed], (d, seed)
            assert min(auc["man"][seed], auc["single"][seed]) > auc["pop"][seed], (d, seed)
