"""The generated sample: byte-identical regeneration, the real format, the target statistics, the planted premise."""
import re
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mini_man import data
from mini_man.sample import FILES, END_DAY, KCORE, SETTINGS, generate, main, reference_scores, tables

DATA = Path(__file__).resolve().parent.parent / "data"
SAMPLE = DATA / "sample"


@pytest.fixture(scope="module")
def stats():
    return data.describe(SAMPLE / FILES[0], SAMPLE / FILES[1])


def read(name):
    return pd.read_csv(SAMPLE / name, header=None, names=data.COLUMNS, dtype={"user": str, "item": str})


def test_regenerating_gives_the_committed_files_byte_for_byte(tmp_path):
    main(["--out", str(tmp_path), "--seed", "0"])
    made = sorted(p.name for p in tmp_path.iterdir())
    assert made == sorted(p.name for p in SAMPLE.glob("*.csv"))
    for name in made:
        assert (tmp_path / name).read_bytes() == (SAMPLE / name).read_bytes(), name


def test_committed_data_files_stay_under_3_mb():
    tracked = subprocess.run(["git", "ls-files", "-z", "data"], cwd=DATA.parent, capture_output=True, text=True)
    if tracked.returncode != 0:
        pytest.skip("not a git checkout")
    files = [DATA.parent / f for f in tracked.stdout.split("\0") if f]
    assert files and sum(f.stat().st_size for f in files) < 3_000_000


def test_sparse_setting_hits_its_datasheet_targets_and_its_tables_are_the_computed_ones(tmp_path):
    main(["--setting", "sparse", "--out", str(tmp_path)])
    readme = (SAMPLE / "README.md").read_text()
    statistics, _, references = tables(tmp_path, KCORE["sparse"])  # the datasheet leaves out the control's table
    assert statistics in readme and references in readme
    paths = tmp_path / FILES[0], tmp_path / FILES[1]
    stats = data.describe(*paths, kcore=KCORE["sparse"])
    assert stats["B"]["users"] >= 3000 and 3 <= stats["B"]["avg_length"] <= 4
    assert min(stats[d]["test"] for d in "AB") >= 800
    prepared = data.prepare(*paths, kcore=KCORE["sparse"])
    B = prepared.domains["B"]
    history = (B.test.hist > 0).sum(1)  # (N,) items of history of each test instance
    assert (history <= 2).mean() >= 0.6 and (history <= 5).mean() >= 0.85
    assert np.median(np.bincount(B.train.target, minlength=B.n_items)[1:]) <= 5
    truth = [pd.read_csv(tmp_path / f, dtype={"user": str, "item": str}) for f in ("user_groups.csv", "item_kinds.csv")]
    ref = reference_scores(prepared, *truth)
    assert ref["group oracle"]["B"]["auc"] - ref["bigram"]["B"]["auc"] >= 0.15


def test_one_premise_or_another_seed_goes_to_its_own_folder_and_tables_need_both(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # the default folder is relative: data/toy_premise_off, never the committed data
    main(["--setting", "toy", "--premise", "off"])
    assert sorted(p.name for p in (tmp_path / "data" / "toy_premise_off").iterdir()) == sorted(
        [*FILES, "user_groups.csv", "item_kinds.csv"])
    assert "--kcore 2" in capsys.readouterr().out
    main(["--setting", "toy", "--seed", "1"])  # another seed: its own folder too
    assert (tmp_path / "data" / "toy_seed1" / FILES[0]).exists() and not (tmp_path / "data" / "toy").exists()
    with pytest.raises(SystemExit):
        main(["--setting", "toy", "--premise", "on", "--tables"])
    assert "--premise both" in capsys.readouterr().err


def test_sparse_setting_keeps_the_samples_design_outside_B():
    assert set(SETTINGS) == set(KCORE) == {"sample", "sparse", "toy"}
    sparse = SETTINGS["sparse"]
    assert set(sparse) == {"users", "items", "length", "min_len"}  # only sizes and lengths change
    assert (sparse["users"][0], sparse["items"][0], sparse["length"][0], sparse["min_len"][0]) == (1400, 1250, 21.0, 12)


def test_files_are_in_the_real_amazon_format():
    for name in (FILES[0], FILES[1], "toys_control.csv"):
        text = (SAMPLE / name).read_text()
        assert not text.startswith("user") and text.endswith("\n")
        df = read(name)
        assert df["user"].str.fullmatch(r"A[0-9A-Z]{13}").all()
        assert df["item"].str.fullmatch(r"0\d{9}|B00[0-9A-Z]{7}").all()
        assert df["item"].str.startswith("0").mean() > 0.2  # leading zeros present
        assert set(df["rating"]) == {1.0, 2.0, 3.0, 4.0, 5.0}
        assert re.fullmatch(r"A[0-9A-Z]{13},\w{10},[1-5]\.0,\d{10}", text.splitlines()[0])
        assert (df["timestamp"] % 86400 == 0).all() and df["timestamp"].max() == END_DAY * 86400
        assert df["timestamp"].max() - df["timestamp"].min() >= 2 * 365 * 86400
        assert not df.duplicated(["user", "item"]).any()
        # rows in no particular order: not grouped by user
        assert (df["user"] != df["user"].shift()).mean() > 0.9


def test_statistics_hit_the_targets(stats):
    for d in "AB":
        s = stats[d]
        assert 1000 <= s["users"] <= 2000 and 1000 <= s["items"] <= 3000
        assert 0.05 <= s["overlap_items"] <= 0.10 and 0 < s["overlap_users"] <= 0.01
        assert s["last_day"] == "2014-07-22" and s["valid"] >= 500 and s["test"] >= 500
    assert 18 <= stats["A"]["avg_length"] <= 22 and 11 <= stats["B"]["avg_length"] <= 14
    # B is the sparse domain: shorter sequences and fewer interactions per item
    assert stats["B"]["records"] / stats["B"]["items"] < 0.75 * stats["A"]["records"] / stats["A"]["items"]


def test_datasheet_tables_are_the_computed_ones():
    readme = (SAMPLE / "README.md").read_text()
    for table in tables(SAMPLE):
        assert table in readme


def test_ground_truth_covers_every_user_and_item():
    groups = pd.read_csv(SAMPLE / "user_groups.csv", dtype={"user": str})
    kinds = pd.read_csv(SAMPLE / "item_kinds.csv", dtype={"item": str})
    for d, name in zip("AB", FILES):
        df = read(name)
        assert set(df["user"]) == set(groups.loc[groups["domain"] == d, "user"])
        assert set(df["item"]) == set(kinds.loc[kinds["domain"] == d, "item"])


def test_targets_follow_the_users_group():
    # planted: a step takes the user's own kind with p_own = 0.75, else a uniform kind -> 0.75 + 0.25 / 5
    d = data.prepare(SAMPLE / FILES[0], SAMPLE / FILES[1])
    groups = pd.read_csv(SAMPLE / "user_groups.csv", dtype={"user": str})
    kinds = pd.read_csv(SAMPLE / "item_kinds.csv", dtype={"item": str})
    for name, dd in d.domains.items():
        g = groups[groups["domain"] == name].set_index("user")["group"].reindex(dd.users[dd.train.user])
        k = kinds[kinds["domain"] == name].set_index("item")["kind"].reindex(dd.items[dd.train.target])
        assert abs((g.to_numpy() == k.to_numpy()).mean() - 0.8) < 0.03


@pytest.fixture(scope="module")
def on_off():
    kw = dict(users=(300, 250), items=(300, 250), length=(12, 9), min_len=5, shared_items=0.2, shared_users=0.04)
    return generate(premise=True, **kw), generate(premise=False, **kw)


def test_premise_switch_changes_only_the_cross_domain_links(on_off):
    on, off = on_off
    pd.testing.assert_frame_equal(on.a, off.a)  # domain A is identical
    same = on.b[["user", "rating", "timestamp"]].eq(off.b[["user", "rating", "timestamp"]]).all(axis=1)
    assert same.mean() > 0.9  # only overlap users' rows differ (their group, hence their items)
    shared_on = set(on.a["item"]) & set(on.b["item"])
    shared_off = set(off.a["item"]) & set(off.b["item"])
    assert len(shared_on) > 20 and len(shared_off) > 20


def test_premise_on_shares_groups_across_domains_and_off_does_not(on_off):
    for sample, premise in zip(on_off, (True, False)):
        k = sample.item_kinds.pivot(index="item", columns="domain", values="kind").dropna()
        g = sample.user_groups.pivot_table(index="user", columns="domain", values="group").dropna()
        assert len(k) > 20 and len(g) >= 5
        if premise:
            assert (k["A"] == k["B"]).all() and (g["A"] == g["B"]).all()
        else:
            assert (k["A"] == k["B"]).mean() < 0.5


def test_generate_is_seeded_and_sized():
    a = generate(users=(40, 30), items=(60, 50), length=(8, 6), min_len=3, seed=5)
    b = generate(users=(40, 30), items=(60, 50), length=(8, 6), min_len=3, seed=5)
    c = generate(users=(40, 30), items=(60, 50), length=(8, 6), min_len=3, seed=6)
    pd.testing.assert_frame_equal(a.b, b.b)
    assert not a.b.equals(c.b)
    assert a.a["user"].nunique() == 40 and a.b["user"].nunique() == 30
    assert np.isclose(len(a.a) / 40, 8, atol=1.5)
    with pytest.raises(ValueError):
        generate(length=(10, 10), min_len=12)
