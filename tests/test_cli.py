"""`python -m mini_man.train`: options, one-line errors with exit code 2, the table, the JSON, checkpoints."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from mini_man import cli, train
from test_train import write_tiny

ROOT = Path(__file__).resolve().parent.parent
OPTIONS = ["--domain-a", "--domain-b", "--models", "--seeds", "--split", "--kcore", "--epochs", "--batch-size",
           "--patience", "--plateau-margin", "--lr", "--lr-grid", "--warmup", "--weight-decay", "--weight-decay-grid",
           "--eval-negatives", "--select-by", "--pool", "--by-history-length", "--max-len", "--num-groups",
           "--full-ranking", "--device", "--jobs", "--head", "--out", "--save", "--load", "--format",
           "--warm-targets-only", "--shared-item-ids", "--dropout", "--negatives", "--sasrec-hidden", "--sasrec-dropout",
           "--sasrec-unscaled", "--sasrec-block", "--sasrec-init", "--scale-embeddings", "--batch-norm", "--help"]
METRICS = {"auc", "gauc", "mrr", "ndcg@10", "hr@10", "hr@10_full", "ndcg@10_full"}


@pytest.fixture(autouse=True)
def keep_threads():
    """`main` sets the thread count to the cores available; restore it for the other tests."""
    n = torch.get_num_threads()
    yield
    torch.set_num_threads(n)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """Options that point the CLI at the tiny generated sample, one epoch."""
    a, b = write_tiny(tmp_path_factory.mktemp("tiny_cli"))
    return ["--domain-a", str(a), "--domain-b", str(b), "--kcore", "3", "--max-len", "8", "--epochs", "1",
            "--batch-size", "64", "--jobs", "1"]


def run_cli(argv, capsys):
    """Run `main(argv)`; returns (exit code, stdout, stderr)."""
    try:
        code = cli.main(argv)
    except SystemExit as e:
        code = e.code
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(code, err, *words):
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    assert all(w in lines[0] for w in words), lines[0]


def test_help_documents_every_option_through_the_module_entry_point():
    res = subprocess.run([sys.executable, "-m", "mini_man.train", "--help"], capture_output=True, text=True,
                         cwd=ROOT, timeout=60)
    assert res.returncode == 0 and res.stderr == ""
    assert all(o in res.stdout for o in OPTIONS)
    assert all(m in res.stdout for m in ("man-local", "man-gru4rec", "gru4rec"))


def test_a_missing_file_exits_2_with_one_line_naming_it(capsys):
    code, _, err = run_cli(["--domain-a", "no/such/file.csv"], capsys)
    assert_one_line_error(code, err, "no/such/file.csv", "not found")


def test_a_folder_instead_of_a_file_exits_2_with_one_line_saying_so(tmp_path, capsys):
    code, _, err = run_cli(["--domain-b", str(tmp_path)], capsys)
    assert_one_line_error(code, err, "--domain-b", str(tmp_path), "is a folder")


def test_training_options_for_pop_alone_are_refused_in_one_line(capsys):
    code, _, err = run_cli(["--models", "pop", "--lr", "0.1", "--warmup", "5"], capsys)
    assert_one_line_error(code, err, "pop has nothing to train", "--lr", "--warmup")


def test_the_same_file_for_both_domains_is_warned_about(tiny, capsys):
    same = tiny[:3] + [tiny[1]] + tiny[4:]  # --domain-b given --domain-a's file
    code, _, err = run_cli(same + ["--models", "pop"], capsys)
    assert code == 0, err
    assert "warning: --domain-a and --domain-b are the same file" in err
    code, _, err = run_cli(tiny + ["--models", "pop"], capsys)
    assert code == 0 and "same file" not in err


def test_a_malformed_file_exits_2_with_one_line_naming_it(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("user,item,rating,timestamp\nu1,i1,5.0,1400000000\n")
    code, _, err = run_cli(["--domain-a", str(bad), "--domain-b", str(bad)], capsys)
    assert_one_line_error(code, err, "bad.csv", "header")


@pytest.mark.parametrize("argv, words", [
    (["--models", "man,sasrec++"], ["unknown model", "sasrec++"]),
    (["--models", "man,man"], ["twice"]),
    (["--models", ""], ["--models", "no model given"]),
    (["--seeds", " "], ["--seeds", "no seed given"]),
    (["--seeds", "0,x"], ["not an integer"]),
    (["--epochs", "0"], ["--epochs", ">= 1"]),
    (["--batch-size", "0"], ["--batch-size", ">= 1"]),
    (["--lr", "0"], ["--lr", "positive"]),
    (["--split", "random"], ["--split"]),
    (["--save", "m.pt"], ["--save", "exactly one model"]),
    (["--models", "man", "--out", "no/such/dir/r.json"], ["--out", "directory not found"]),
    (["--full-ranking", "-1"], ["--full-ranking", ">= 0"]),
    (["--full-ranking", "some"], ["--full-ranking", "not an integer"]),
])
def test_impossible_options_exit_2_with_one_line(argv, words, capsys):
    assert_one_line_error(*run_cli(argv, capsys)[::2], *words)


@pytest.mark.skipif(torch.cuda.is_available(), reason="a GPU is present")
def test_cuda_without_a_gpu_exits_2(capsys):
    assert_one_line_error(*run_cli(["--device", "cuda"], capsys)[::2], "--device cuda")


def test_the_sample_files_are_found_from_any_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert cli.sample_path("toys.csv") == ROOT / "data" / "sample" / "toys.csv"


def test_pool_defaults_to_each_models_own_read_out():
    from mini_man import cli

    args = cli.build_parser().parse_args([])
    assert args.pool is None
    assert "pool" not in cli.model_overrides(args, "gru4rec") and "pool" not in cli.model_overrides(args, "man")
    args = cli.build_parser().parse_args(["--pool", "mean"])
    assert cli.model_overrides(args, "gru4rec")["pool"] == "mean"


def test_table_and_json_with_two_models_and_two_seeds(tiny, tmp_path, capsys):
    out = tmp_path / "results.json"
    code, stdout, stderr = run_cli([*tiny, "--models", "single,shared", "--seeds", "0,1", "--out", str(out),
                                    "--by-history-length"], capsys)
    assert code == 0
    assert stdout.splitlines()[0].split() == ["Domain", "Metric", "single", "shared"]
    assert "±" in stdout and "NDCG@10 (full)" in stdout and "best epoch" in stdout
    assert "1+ 1+" in stdout  # one epoch of budget, and it was the best: the "+" is explained under the table
    assert "+: the best epoch is the budget's last (1): that domain was still improving when --epochs ran out" in stdout
    assert "epoch   1/1" in stderr  # progress goes to stderr
    r = json.loads(out.read_text())
    assert {"config", "data", "results", "seconds"} <= set(r)
    for d in ("A", "B"):
        assert set(r["data"][d]) == {"users", "items", "train", "valid", "test"}
    for m in ("single", "shared"):
        assert r["seconds"][m] > 0
        for d in ("A", "B"):
            res = r["results"][m][d]
            assert set(res) == METRICS | {f"{k}_std" for k in METRICS}
            assert all(0 <= res[k] <= 1 for k in METRICS)
        assert [run["seed"] for run in r["runs"][m]] == [0, 1]
        run = r["runs"][m][0]  # the default: one run (plain Adam), one epoch
        assert {key: len(curve) for key, curve in run["curves"].items()} == {"0.003": 1}
        assert run["last_epoch"] == run["best_epoch"] == {"A": 1, "B": 1}
        assert set(run["lr"]) == {"A", "B"} and run["selected_by"] == "gauc"
    assert "protocol: --split time, 1 + 9 fixed candidates" in stdout
    assert r["config"]["weight_decay_grid"] == [0.0]
    buckets = r["runs"]["single"][0]["results"]["A"]["by_history_length"]
    assert list(buckets) == ["1-2", "3-5", "6-10", "11+"]
    assert sum(b["n"] for b in buckets.values()) == r["data"]["A"]["test"]
    assert "history (AUC)" in stdout and "11+" in stdout


def test_lr_grid_chooses_per_domain_on_validation_and_baselines_share_the_table(tiny, tmp_path, capsys):
    out = tmp_path / "grid.json"
    code, stdout, stderr = run_cli([*tiny, "--models", "single,sasrec,pop", "--lr-grid", "1e-3,1e-2",
                                    "--weight-decay", "0", "--eval-negatives", "12", "--split", "loo",
                                    "--out", str(out)], capsys)
    assert code == 0, stderr
    assert stdout.splitlines()[0].split() == ["Domain", "Metric", "single", "sasrec", "pop"]
    assert "HR@10 " in stdout  # 13 candidates: sampled HR@10 is informative and shown
    assert "1 + 12 fixed candidates" in stdout and "by validation NDCG@10" in stdout
    r = json.loads(out.read_text())
    for m in ("single", "sasrec"):
        run = r["runs"][m][0]
        assert set(run["curves"]) == {"0.001", "0.01"}
        for d in ("A", "B"):  # the chosen lr is the one with the best validation NDCG@10 (auto: > 10 candidates)
            best = {lr: max(h["valid"][d]["ndcg@10"] for h in curve) for lr, curve in run["curves"].items()}
            assert f"{run['lr'][d]:g}" == max(best, key=best.get)
            assert run["best_valid"][d] == pytest.approx(best[f"{run['lr'][d]:g}"])
    assert r["runs"]["pop"][0]["lr"] == {} and r["runs"]["pop"][0]["best_epoch"] == {"A": 0, "B": 0}


def test_weight_decay_grid_chooses_per_domain_on_validation(tiny, tmp_path, capsys):
    out = tmp_path / "wd.json"
    code, stdout, stderr = run_cli([*tiny, "--models", "single,pop", "--weight-decay-grid", "0,1", "--epochs", "2",
                                    "--out", str(out)], capsys)
    assert code == 0, stderr
    assert "weight decay" in stdout  # the table shows the chosen weight decay per seed
    r = json.loads(out.read_text())
    assert r["config"]["weight_decay_grid"] == [0.0, 1.0]
    run = r["runs"]["single"][0]
    assert set(run["curves"]) == {"0.003", "0.003, weight decay 1"}
    label = {0.0: "0.003", 1.0: "0.003, weight decay 1"}
    for d in ("A", "B"):  # the chosen weight decay is the one with the best validation GAUC (<= 10 candidates)
        best = {key: max(h["valid"][d]["gauc"] for h in curve) for key, curve in run["curves"].items()}
        assert label[run["weight_decay"][d]] == max(best, key=best.get)
        assert run["best_valid"][d] == pytest.approx(best[label[run["weight_decay"][d]]])
    assert r["runs"]["pop"][0]["weight_decay"] == {}
    assert list(r["runs"]["pop"][0]["curves"]) == ["0.003"]  # nothing to train: fitted once


@pytest.mark.parametrize("value", ["0", "-0", "0.5"])
def test_one_weight_decay_replaces_the_grid(tiny, tmp_path, capsys, value):
    out = tmp_path / "one.json"
    code, stdout, stderr = run_cli([*tiny, "--models", "single", "--weight-decay", value, "--out", str(out)], capsys)
    assert code == 0, stderr
    r = json.loads(out.read_text())
    wd = abs(float(value))  # -0 is 0
    assert r["config"]["weight_decay_grid"] == [wd] and "weight_decay" not in r["config"]["train"]["single"]
    run = r["runs"]["single"][0]
    assert list(run["curves"]) == [train.setting_label(3e-3, wd)] and run["weight_decay"] == {"A": wd, "B": wd}
    assert ("weight decay" in stdout) == (wd > 0)  # the table's row appears when a run used weight decay


@pytest.mark.parametrize("option", [["--weight-decay-grid", "0,-1"], ["--weight-decay-grid", "0,0"],
                                    ["--weight-decay-grid", "0,x"], ["--weight-decay", "inf"],
                                    ["--weight-decay-grid", "0,1000"], ["--lr-grid", "1e-3,1", "--weight-decay", "1"],
                                    ["--lr", "1", "--weight-decay-grid", "0,1"],  # lr 1 x the grid's weight decay 1
                                    ["--weight-decay-grid", "0.1,0.1000001"]])  # one label, "0.1", for both
def test_a_bad_weight_decay_is_a_one_line_error_before_training(tiny, capsys, option):
    """Negative, repeated, non-numeric, infinite, or so large that lr x weight decay >= 1 (the weights would be
    zeroed every step): refused before the first setting trains."""
    code, _, stderr = run_cli([*tiny, "--models", "single", *option], capsys)
    assert code == 2 and "weight decay" in stderr and "Traceback" not in stderr and "epoch" not in stderr


def test_full_ranking_0_skips_the_full_metrics(tiny, tmp_path, capsys):
    out = tmp_path / "results.json"
    code, stdout, _ = run_cli([*tiny, "--models", "single", "--full-ranking", "0", "--out", str(out)], capsys)
    assert code == 0
    full_rows = [line for line in stdout.splitlines() if "(full)" in line and "HR@10" in line]
    assert len(full_rows) == 2 and all(line.split()[-1] == "n/a" for line in full_rows)
    res = json.loads(out.read_text())["results"]["single"]
    assert all(res[d]["hr@10_full"] is None and 0 < res[d]["auc"] < 1 for d in ("A", "B"))


@pytest.fixture(scope="module")
def saved(tiny, tmp_path_factory):
    """A checkpoint of `single` trained on the tiny sample, and the JSON of that run."""
    folder = tmp_path_factory.mktemp("ckpt")
    ckpt, out = folder / "single.pt", folder / "trained.json"
    assert cli.main([*tiny, "--models", "single", "--save", str(ckpt), "--out", str(out)]) == 0
    return ckpt, json.loads(out.read_text())


def test_checkpoint_round_trip_gives_identical_scores(tiny, saved, tmp_path, capsys):
    ckpt, trained = saved
    out = tmp_path / "loaded.json"
    assert run_cli([*tiny, "--models", "single", "--load", str(ckpt), "--out", str(out)], capsys)[0] == 0
    loaded = json.loads(out.read_text())
    assert loaded["results"] == trained["results"]
    assert trained["config"]["weight_decay_grid"] == [0.0] and loaded["config"]["weight_decay_grid"] is None


@pytest.mark.parametrize("option", [["--weight-decay", "1"], ["--weight-decay-grid", "0,1"],
                                    ["--lr-grid", "1e-3,3e-3"], ["--lr", "0.01"], ["--warmup", "5"],
                                    ["--negatives", "5"]])
def test_load_refuses_options_that_choose_how_to_train(tiny, saved, capsys, option):
    code, _, err = run_cli([*tiny, "--models", "single", "--load", str(saved[0]), *option], capsys)
    assert_one_line_error(code, err, "--load", f"drop {option[0]} (")


@pytest.mark.parametrize("change, words", [
    (["--models", "shared"], ["'single'", "'shared'"]),
    (["--models", "single", "--num-groups", "3"], ["num_groups 5 there, 3 here"]),
    (["--models", "single", "--kcore", "4"], ["does not fit these data: kcore 3 there, 4 here"]),
])
def test_a_checkpoint_that_does_not_fit_exits_2_with_one_line(tiny, saved, change, words, capsys):
    code, _, err = run_cli([*tiny, *change, "--load", str(saved[0])], capsys)
    assert_one_line_error(code, err, "single.pt", *words)


def test_jobs_train_in_parallel_processes_with_the_results_of_one_process(tiny, tmp_path, capsys, monkeypatch):
    """--jobs 2 (two worker processes of one thread) gives the same numbers, in the same order, as --jobs 1 on one
    core (one thread: a thread count changes the order of float sums)."""
    monkeypatch.setattr(cli, "CORES", 1)
    outs = {}
    for jobs in (1, 2):
        argv = tiny[:-2] + ["--jobs", str(jobs), "--models", "single,pop", "--seeds", "0,1", "--epochs", "2",
                            "--out", str(tmp_path / f"jobs{jobs}.json")]
        code, out, err = run_cli(argv, capsys)
        assert code == 0, err
        outs[jobs] = json.loads((tmp_path / f"jobs{jobs}.json").read_text())
    assert outs[2]["config"]["jobs"] == 2 and outs[1]["config"]["jobs"] == 1
    assert outs[1]["results"] == outs[2]["results"]
    assert [r["seed"] for r in outs[2]["runs"]["single"]] == [0, 1]


@pytest.mark.parametrize("option", [["--head", "dot"], ["--pool", "last"]])
def test_a_man_family_option_without_a_man_family_model_is_a_one_line_error(tiny, capsys, option):
    code, _, stderr = run_cli([*tiny, "--models", "sasrec,pop", *option], capsys)
    assert_one_line_error(code, stderr, option[0], "MAN family", "sasrec,pop")


def test_negatives_and_sasrec_sizes_reach_the_training_and_the_json(tiny, tmp_path, capsys):
    out = tmp_path / "sizes.json"
    code, _, err = run_cli(tiny + ["--models", "sasrec,single", "--negatives", "3", "--sasrec-hidden", "12",
                                   "--sasrec-dropout", "0", "--out", str(out)], capsys)
    assert code == 0, err
    config = json.loads(out.read_text())["config"]
    assert config["train"]["sasrec"]["n_neg"] == 3 and config["train"]["single"]["n_neg"] == 3
    assert config["models_config"]["sasrec"]["hidden"] == 12 and config["models_config"]["sasrec"]["dropout"] == 0
    assert config["models_config"]["single"]["item_dim"] == 16  # sasrec's sizes leave the MAN family alone
    assert config["models_config"]["single"]["dropout"] == 0


def test_sasrec_switches_reach_its_config(tiny, tmp_path, capsys):
    out = tmp_path / "switches.json"
    code, _, err = run_cli(tiny + ["--models", "sasrec", "--sasrec-unscaled", "--sasrec-block", "pre-ln",
                                   "--sasrec-init", "man", "--out", str(out)], capsys)
    assert code == 0, err
    config = json.loads(out.read_text())["config"]["models_config"]["sasrec"]
    assert (config["scale"], config["block"], config["init"]) == (False, "pre-ln", "man")


def test_windows_reach_the_every_position_models_training(tiny, tmp_path, capsys):
    out = tmp_path / "windows.json"
    code, _, err = run_cli(tiny + ["--models", "sasrec,single", "--windows", "every", "--out", str(out)], capsys)
    assert code == 0, err
    config = json.loads(out.read_text())["config"]["train"]
    assert config["sasrec"]["windows"] == "every" and "windows" not in config["single"]  # single: nothing to set


def test_dropout_reaches_the_man_family_only(tiny, tmp_path, capsys):
    out = tmp_path / "dropout.json"
    code, _, err = run_cli(tiny + ["--models", "single,sasrec", "--dropout", "0.3", "--out", str(out)], capsys)
    assert code == 0, err
    config = json.loads(out.read_text())["config"]["models_config"]
    assert config["single"]["dropout"] == 0.3 and config["sasrec"]["dropout"] == 0.2  # sasrec keeps its own


def test_batch_norm_reaches_the_man_family_only(tiny, tmp_path, capsys):
    out = tmp_path / "batch_norm.json"
    code, _, err = run_cli(tiny + ["--models", "single,sasrec", "--batch-norm", "--out", str(out)], capsys)
    assert code == 0, err
    config = json.loads(out.read_text())["config"]["models_config"]
    assert config["single"]["batch_norm"] is True and "batch_norm" not in config["sasrec"]


BAD = [(["--models", "man", "--sasrec-hidden", "8"], ["--sasrec-hidden", "sasrec"]),
       (["--models", "sasrec", "--sasrec-dropout", "1.5"], ["dropout"]),
       (["--negatives", "0"], ["--negatives"]),
       (["--models", "sasrec", "--dropout", "0.1"], ["--dropout", "MAN family"]),
       (["--models", "man", "--dropout", "1"], ["--dropout", "[0, 1)"]),
       (["--models", "man,sasrec", "--dropout", "0.1", "--sasrec-dropout", "1"], ["--sasrec-dropout", "[0, 1)"]),
       (["--models", "man,gru4rec", "--dropout", "0.2"], ["--dropout", "gru4rec"]),
       (["--models", "sasrec", "--sasrec-hidden", "100000"], ["--sasrec-hidden", "4096"]),
       (["--models", "sasrec", "--negatives", "100000000"], ["--negatives", "items"]),
       (["--models", "pop", "--negatives", "3"], ["--negatives", "pop"]),
       (["--models", "man", "--sasrec-block", "pre-ln"], ["--sasrec-block", "sasrec"]),
       (["--models", "single", "--sasrec-unscaled"], ["--sasrec-unscaled", "sasrec"]),
       (["--models", "sasrec", "--sasrec-init", "kaiming"], ["--sasrec-init"]),
       (["--models", "sasrec", "--batch-norm"], ["--batch-norm", "MAN family"]),
       (["--models", "single", "--batch-norm", "--head", "dot"], ["--batch-norm", "--head dot"]),
       (["--models", "man,single", "--windows", "every"], ["--windows", "every-position", "man,single"]),
       (["--models", "sasrec", "--windows", "all"], ["--windows"])]


@pytest.mark.parametrize("extra, words", BAD)
def test_bad_sizes_and_negatives_are_one_line_errors(tiny, capsys, extra, words):
    assert_one_line_error(*run_cli(tiny + extra, capsys)[::2], *words)


def test_a_run_records_the_cpu_kernels_it_computed_with(tiny, tmp_path):
    """The JSON names PyTorch's kernel set and the variables that select MKL's, oneDNN's and OpenBLAS's, as the run
    was started (None where a variable is not set: the CPU's own choice)."""
    from mini_man.reproducibility import CPU_KERNELS
    out = tmp_path / "kernels.json"
    env = {**{k: v for k, v in os.environ.items() if k not in CPU_KERNELS}, "MKL_CBWR": "COMPATIBLE"}
    subprocess.run([sys.executable, "-m", "mini_man.train", *tiny, "--models", "single", "--full-ranking", "0",
                    "--out", str(out)], capture_output=True, text=True, check=True, env=env)
    kernels = json.loads(out.read_text())["config"]["cpu_kernels"]
    assert kernels["MKL_CBWR"] == "COMPATIBLE" and kernels["ATEN_CPU_CAPABILITY"] is None
    assert isinstance(kernels["torch"], str) and kernels["torch"]  # e.g. "AVX2", "AVX512", "DEFAULT"
