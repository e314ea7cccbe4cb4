"""mini_man.compare: paired differences over seeds with a t-interval."""
import json
import math

import pytest
from scipy import stats

from mini_man import compare


def report(values: dict) -> dict:
    """A minimal --out JSON: {model: {seed: (A auc, B auc)}}."""
    return {"runs": {m: [{"seed": s, "results": {"A": {"auc": a}, "B": {"auc": b}}} for s, (a, b) in runs.items()]
                     for m, runs in values.items()}}


def test_paired_difference_mean_std_and_t_interval_by_hand():
    r = compare.paired({0: 0.80, 1: 0.82, 2: 0.81}, {0: 0.75, 1: 0.80, 2: 0.77, 3: 0.1})  # seed 3 is unpaired
    d = [0.05, 0.02, 0.04]
    mean, sd = sum(d) / 3, math.sqrt(sum((x - sum(d) / 3) ** 2 for x in d) / 2)
    half = stats.t.ppf(0.975, 2) * sd / math.sqrt(3)  # t(0.975, 2) = 4.303
    assert r["n"] == 3 and r["mean"] == pytest.approx(mean) and r["std"] == pytest.approx(sd)
    assert (r["low"], r["high"]) == pytest.approx((mean - half, mean + half))


def test_no_shared_seed_is_an_error_and_one_seed_has_no_interval():
    with pytest.raises(ValueError, match="share no seed"):
        compare.paired({0: 1.0}, {1: 1.0})
    assert math.isnan(compare.paired({0: 1.0}, {0: 0.5})["low"])


def test_command_line_prints_one_line_per_domain_and_exits_2_on_a_missing_model(tmp_path, capsys):
    path = tmp_path / "r.json"
    runs = {"man": {0: (0.8, 0.7), 1: (0.9, 0.75)}, "single": {0: (0.7, 0.7), 1: (0.8, 0.7)}}
    path.write_text(json.dumps(report(runs)))
    assert compare.main([str(path), "man", "single"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("A auc man - single: +0.1000") and out[1].startswith("B auc man - single: +0.0250")
    assert compare.main([str(path), "man", "sasrec"]) == 2
    assert "not in this file" in capsys.readouterr().err


def test_per_bucket_differences_skip_empty_buckets_and_need_bucket_results(tmp_path, capsys):
    rep = report({"man": {0: (0.8, 0.7), 1: (0.9, 0.75)}, "single": {0: (0.7, 0.7), 1: (0.8, 0.7)}})
    for model, by_seed in (("man", (0.66, 0.70)), ("single", (0.60, 0.61))):
        for run, short in zip(rep["runs"][model], by_seed):
            run["results"]["B"]["by_history_length"] = {"1-2": {"auc": short, "n": 40}, "11+": {"n": 0}}
            run["results"]["A"]["by_history_length"] = {"11+": {"n": 0}}  # only an empty bucket in A
    with pytest.raises(ValueError, match="no 'auc' in domain A history 1-2"):
        compare.per_seed(rep, "man", "A", "auc", "1-2")
    assert compare.per_seed(rep, "man", "B", "auc", "1-2") == {0: 0.66, 1: 0.70}
    assert compare.buckets(rep, "single", "B") == {"1-2": 40, "11+": 0}
    path = tmp_path / "r.json"
    path.write_text(json.dumps(rep))
    assert compare.main([str(path), "man", "single", "--by-history-length"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1] == "  A history  11+ (0 targets): too few targets to compare"  # listed, not compared
    assert len(out) == 5 and out[3].startswith("  B history  1-2 (40 targets): +0.0750")
    other = json.loads(json.dumps(rep))
    other["runs"]["single"][0]["results"]["B"]["by_history_length"]["1-2"]["n"] = 38
    other["runs"]["single"][1]["results"]["B"]["by_history_length"]["1-2"]["n"] = 38
    path2 = tmp_path / "r2.json"
    path2.write_text(json.dumps(other))
    assert compare.main([str(path), "single", "single", "--against", str(path2), "--by-history-length"]) == 0
    assert "  B history  1-2 (40 / 38 targets): +0.0000" in capsys.readouterr().out  # both files' counts


def test_files_must_share_the_protocol_and_differing_data_or_seeds_are_noted(tmp_path, capsys):
    runs = {"man": {0: (0.8, 0.7), 1: (0.9, 0.75), 2: (0.85, 0.7)}}
    a, b = report(runs), report({"man": {0: (0.7, 0.6), 1: (0.8, 0.7)}})
    a["config"], b["config"] = {"split": "time", "kcore": 10}, {"split": "time", "kcore": 2}
    a["data"], b["data"] = {"A": {"users": 10}, "B": {"users": 5}}, {"A": {"users": 10}, "B": {"users": 7}}
    pa, pb = tmp_path / "a.json", tmp_path / "b.json"
    pa.write_text(json.dumps(a)), pb.write_text(json.dumps(b))
    assert compare.main([str(pa), "man", "man", "--against", str(pb)]) == 2
    err = capsys.readouterr().err
    assert "evaluation protocol" in err and "kcore: 10 vs 2" in err and "a.json" in err
    b["config"]["kcore"] = 10
    pb.write_text(json.dumps(b))
    assert compare.main([str(pa), "man", "man", "--against", str(pb)]) == 0
    captured = capsys.readouterr()
    assert "different data" in captured.err and "B: {'users': 5} vs {'users': 7}" in captured.err
    a["config"]["domain_b"], b["config"]["domain_b"] = "on/toys.csv", "off/toys.csv"
    b["data"] = a["data"]  # the same sizes: the file names still tell the data apart
    pa.write_text(json.dumps(a)), pb.write_text(json.dumps(b))
    assert compare.main([str(pa), "man", "man", "--against", str(pb)]) == 0
    assert "domain_b: on/toys.csv vs off/toys.csv" in capsys.readouterr().err
    assert "seeds [2] are in one run only" in captured.err
    assert captured.out.splitlines()[0].startswith("A auc man - man: +0.1000") and "(2 seeds)" in captured.out


def test_bad_files_metrics_and_missing_buckets_give_errors_that_name_the_file(tmp_path, capsys):
    lst, bad = tmp_path / "list.json", tmp_path / "bad.json"
    lst.write_text("[1, 2]"), bad.write_text("{not json")
    for path in (lst, bad):
        assert compare.main([str(path), "man", "single"]) == 2
        assert str(path) in capsys.readouterr().err
    path = tmp_path / "r.json"
    path.write_text(json.dumps(report({"man": {0: (0.8, 0.7)}, "single": {0: (0.7, 0.7)}})))
    assert compare.main([str(path), "man", "single", "--metric", "hr@5"]) == 2
    err = capsys.readouterr().err
    assert "no 'hr@5'" in err and "it has: auc" in err and "r.json" in err
    assert compare.main([str(path), "man", "single", "--by-history-length"]) == 2  # the first file has no buckets
    assert "no per-bucket results" in capsys.readouterr().err
    assert compare.main([str(path), "man", "single", "--metric", "by_history_length"]) == 2  # not a number
    assert "no 'by_history_length'" in capsys.readouterr().err
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps({"runs": {"man": [{"seed": 0}]}}))
    assert compare.main([str(broken), "man", "man"]) == 2
    assert "broken.json" in capsys.readouterr().err
    assert compare.main([str(path), "man", "single"]) == 0  # one seed: a mean, no nan interval
    assert "(1 seed: no interval)" in capsys.readouterr().out


def graded(valid: dict) -> dict:
    """A --out JSON of model "man" whose runs carry validation scores: {seed: (A valid, B valid)}; test AUC = 10 x
    the validation score, so the kept run can be read off the result."""
    return {"runs": {"man": [{"seed": s, "best_valid": {"A": a, "B": b}, "best_epoch": {"A": 1, "B": 2},
                              "results": {"A": {"auc": 10 * a}, "B": {"auc": 10 * b}}}
                             for s, (a, b) in valid.items()]}}


def test_grid_keeps_per_seed_and_domain_the_run_with_the_best_validation_score():
    plain = graded({0: (0.80, 0.60), 1: (0.70, 0.75)})
    decay = graded({0: (0.78, 0.70), 1: (0.70, float("nan"))})  # seed 1: a tie in A, B not trained
    g = compare.grid({"0": plain, "1": decay}, "man")
    assert [r["setting"] for r in g["runs"]["man"]] == [{"A": "0", "B": "1"}, {"A": "0", "B": "0"}]  # tie: first
    assert compare.per_seed(g, "man", "B", "auc") == pytest.approx({0: 7.0, 1: 7.5})
    assert g["runs"]["man"][0]["lr"] == {"A": None, "B": None}  # these reports carry no learning rate
    assert g["runs"]["man"][0]["last_epoch"] == {"A": None, "B": None} and math.isnan(g["runs"]["man"][0]["seconds"])
    plain["runs"]["man"][0].update(seconds=2.0, last_epoch={"A": 6, "B": 7})
    decay["runs"]["man"][0].update(seconds=3.0, last_epoch={"A": 8, "B": 9})
    kept = compare.grid({"0": plain, "1": decay}, "man")["runs"]["man"][0]
    assert kept["seconds"] == 5.0 and kept["last_epoch"] == {"A": 6, "B": 9}  # the grid costs both runs
    with pytest.raises(ValueError, match="same seeds"):
        compare.grid({"0": plain, "1": graded({0: (0.8, 0.6)})}, "man")
    with pytest.raises(ValueError, match="same seeds"):
        compare.grid({}, "man")
