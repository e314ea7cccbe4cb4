"""Data pipeline: loading, bad input, k-core, splits, vocabularies, histories, fixed candidates, negatives."""
import numpy as np
import pytest

from mini_man import data
from mini_man.data import DataError
from mini_man.sample import generate

DAY = 86400

# Domain A by hand (rows deliberately out of order). With test_days = valid_days = 90 and t_max = day 300:
# test = days >= 210, valid = days 120..209, train = earlier. Items "0001".."0012" get local ids 1..12.
HAND_A = [
    ("u1", "0005", 250), ("u2", "0001", 10), ("u1", "0001", 1), ("u3", "0010", 5), ("u1", "0003", 3),
    ("u2", "0008", 160), ("u1", "0006", 300), ("u3", "0012", 7), ("u1", "0002", 2), ("u2", "0009", 280),
    ("u1", "0004", 150), ("u2", "0007", 11), ("u3", "0011", 6),
    ("u1", "0002", 250),  # a later duplicate of (u1, 0002): dropped, the day-2 row is kept
]


def write(path, rows):
    path.write_text("".join(f"{u},{i},5.0,{d * DAY}\n" for u, i, d in rows))
    return path


@pytest.fixture
def hand(tmp_path):
    """Hand-made A; B = the same users and days, items renamed except the shared 0001..0003."""
    b_rows = [(u, i if i <= "0003" else "B" + i, d) for u, i, d in HAND_A]
    return write(tmp_path / "a.csv", HAND_A), write(tmp_path / "b.csv", b_rows)


def prep(paths, **kw):
    return data.prepare(*paths, **{"kcore": 1, "max_len": 3, "n_eval_neg": 2, **kw})


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A tiny generated pair of files (~150 users per domain) and its preparation with a 3-core."""
    out = tmp_path_factory.mktemp("tiny")
    generate(users=(150, 120), items=(150, 120), length=(12, 9), min_len=5, seed=1).write(out)
    paths = (out / "video_games.csv", out / "toys.csv")
    return paths, data.prepare(*paths, kcore=3)


# --------------------------------------------------------------------------------------------- loading
def test_ids_stay_strings_with_leading_zeros(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("NA,0545112141,5.0,1405987200\nA1E2ODNEYJ1UWX,null,4.0,1405900800\n")
    df = data.load_ratings(path)
    assert df["user"].tolist() == ["NA", "A1E2ODNEYJ1UWX"]
    assert df["item"].tolist() == ["0545112141", "null"]
    assert df["timestamp"].dtype == np.int64 and df["rating"].tolist() == [5.0, 4.0]


@pytest.mark.parametrize("content, message", [
    (None, "file not found"),
    ("", "empty file"),
    ("user,item,rating,timestamp\nu1,0001,5.0,86400\n", "header"),
    ("u1,0001,5.0\nu2,0002,4.0\n", "3 columns"),
    ("u1,0001,5.0,86400\nu2,0002,4.0,86400,x\n", "wrong number of columns"),
    ("u1,0001,5.0,86400\nu2,0002\n", r"an empty field .*line 2"),
    ("u1,0001,5.0,86400\nu2,0002,five,86400\n", r"rating that is not a number.*line 2"),
    ("u1,0001,5.0,86400\nu2,0002,4.0,2014-07-22\n", r"timestamp that is not a number.*line 2"),
])
def test_bad_file_raises_one_line_error_naming_file(tmp_path, content, message):
    path = tmp_path / "bad.csv"
    if content is not None:
        path.write_text(content)
    with pytest.raises(DataError, match=message) as err:
        data.load_ratings(path)
    assert str(path) in str(err.value) and "\n" not in str(err.value)
    assert isinstance(err.value, ValueError)


def test_prepare_reports_which_file_is_bad(tmp_path, hand):
    (tmp_path / "b.csv").write_text("u1,0001,5.0,86400\nu2,0002,4.0,yesterday\n")
    with pytest.raises(DataError, match=r"b\.csv: 1 row\(s\) with .*line 2"):
        prep(hand)


def test_domain_emptied_by_kcore_raises(hand):
    with pytest.raises(DataError, match=r"domain A \(.*a\.csv\): no interactions left after the 50-core"):
        prep(hand, kcore=50)


@pytest.mark.parametrize("valid_days, empty", [(1, "valid"), (1000, "train")])
def test_empty_split_raises(hand, valid_days, empty):
    with pytest.raises(DataError, match=rf"domain A \(.*\): the {empty} split is empty"):
        prep(hand, valid_days=valid_days)


def test_single_interaction_user_is_dropped_with_its_items(tmp_path, hand):
    write(hand[0], HAND_A + [("loner", "0099", 5)])
    d = prep(hand).domains["A"]
    assert "loner" not in d.users and "0099" not in d.items
    assert d.stats()["users"] == 3


def test_bad_arguments_raise_value_error(hand):
    for kw in (dict(split="random"), dict(kcore_mode="both"), dict(max_len=0), dict(n_eval_neg=0)):
        with pytest.raises(ValueError):
            prep(hand, **kw)


# ---------------------------------------------------------------------------------------------- k-core
def test_paper_kcore_iterates_to_a_fixed_point_official_is_one_users_pass():
    # u0, u1 x i0, i1 is a 2-core; u2 has i1 and i2, and i2 has one user.
    user = np.array([0, 0, 1, 1, 2, 2])
    item = np.array([0, 1, 0, 1, 1, 2])
    # paper: i2 goes (1 user) -> u2 is left with 1 item -> u2 goes too, on the second pass.
    assert data.kcore_mask(user, item, 2, "paper").tolist() == [True] * 4 + [False, False]
    # official: users with >= 2 items, items unfiltered, one pass: everything stays.
    assert data.kcore_mask(user, item, 2, "official").all()
    assert data.kcore_mask(user, item, 3, "official").sum() == 0


def test_kcore_mode_official_keeps_rare_items(tiny):
    paths, paper = tiny
    official = data.prepare(*paths, kcore=3, kcore_mode="official")
    df = data.load_domain(paths[1], "B", kcore=3, kcore_mode="official")
    assert df["item"].value_counts().min() < 3  # items are not filtered
    assert (df["user"].value_counts() >= 3).all()
    assert official.domains["B"].n_items > paper.domains["B"].n_items


# ------------------------------------------------------------------------------- instances and splits
def test_time_split_histories_right_aligned_and_spanning_splits(hand):
    d = prep(hand).domains["A"]
    assert d.users.tolist() == ["u1", "u2", "u3"]
    assert d.items.tolist() == [""] + [f"{i:04d}" for i in range(1, 13)]
    tr, va, te = d.train, d.valid, d.test
    assert tr.user.tolist() == [0, 0, 1, 2, 2] and tr.target.tolist() == [2, 3, 7, 11, 12]
    assert tr.hist.tolist() == [[0, 0, 1], [0, 1, 2], [0, 0, 1], [0, 0, 10], [0, 10, 11]]
    assert tr.cand is None
    assert va.user.tolist() == [0, 1] and va.target.tolist() == [4, 8]
    assert va.hist.tolist() == [[1, 2, 3], [0, 1, 7]]
    # Test histories contain earlier valid (4, 8) and test (5) items; truncated to the 3 most recent.
    assert te.user.tolist() == [0, 0, 1] and te.target.tolist() == [5, 6, 9]
    assert te.hist.tolist() == [[2, 3, 4], [3, 4, 5], [1, 7, 8]]
    assert d.stats() == {"users": 3, "items": 12, "train": 5, "valid": 2, "test": 3}


def test_loo_split_last_is_test_second_last_is_valid(hand):
    d = prep(hand, split="loo").domains["A"]
    assert d.test.target.tolist() == [6, 9, 12] and d.valid.target.tolist() == [5, 8, 11]
    assert d.train.target.tolist() == [2, 3, 4, 7]


def test_histories_are_right_aligned_and_never_empty(tiny):
    _, d = tiny
    for dd in d.domains.values():
        for s in (dd.train, dd.valid, dd.test):
            assert s.hist.shape == (len(s.target), d.max_len) and s.hist.dtype == np.int64
            has = s.hist > 0
            assert has[:, -1].all()  # the newest item is in the last column
            assert (np.diff(has.astype(int), axis=1) >= 0).all()  # padding only on the left


def test_instances_are_interactions_minus_first_ones(tiny):
    paths, d = tiny
    for name, path in zip("AB", paths):
        df = data.load_domain(path, name, kcore=3)
        stats = d.domains[name].stats()
        assert stats["train"] + stats["valid"] + stats["test"] == len(df) - df["user"].nunique()


def test_time_split_windows_are_relative_to_the_domain_max(tiny):
    paths, d = tiny
    for name, path in zip("AB", paths):
        df = data.load_domain(path, name, kcore=3)
        t_max = df["timestamp"].max()
        dd = d.domains[name]
        # targets of test instances are exactly the non-first interactions in [t_max - 90 d, t_max]
        first = ~df.duplicated("user")
        in_test = (df["timestamp"] >= t_max - 90 * DAY) & ~first
        in_valid = (df["timestamp"] >= t_max - 180 * DAY) & ~in_test & ~first
        assert dd.stats()["test"] == in_test.sum() and dd.stats()["valid"] == in_valid.sum()


# -------------------------------------------------------------------------------------------- vocabularies
def test_vocabularies_local_and_global(hand):
    d = prep(hand)
    A, B = d.domains["A"], d.domains["B"]
    assert A.items[0] == "" and A.global_ids[0] == 0 and B.global_ids[0] == 0
    assert d.n_global_items == 1 + 12 + 9  # union of item strings: 0001..0012 and B0004..B0012, plus padding
    shared = {s: g for s, g in zip(A.items, A.global_ids)}
    for s, g in zip(B.items[1:], B.global_ids[1:]):
        assert (shared[s] == g) if s in shared else g not in A.global_ids
    assert len(set(A.global_ids) | set(B.global_ids)) == d.n_global_items


def test_test_targets_are_in_the_local_vocabulary(tiny):
    _, d = tiny
    for dd in d.domains.values():
        assert (dd.test.target >= 1).all() and (dd.test.target < dd.n_items).all()
        # items seen only in the test window still have their own id (unlike the official train-only vocab)
        train_items = np.unique(np.concatenate([dd.train.target, dd.train.hist.ravel()]))
        assert dd.n_items - 1 >= len(train_items) - 1


# ---------------------------------------------------------------------------------- evaluation candidates
def test_candidates_fixed_distinct_and_never_seen_by_the_user(tiny):
    paths, d = tiny
    for name, path in zip("AB", paths):
        dd = d.domains[name]
        df = data.load_domain(path, name, kcore=3)
        seen = set(zip(df["user"], df["item"]))
        for s in (dd.valid, dd.test):
            assert s.cand.shape == (len(s.target), 10) and (s.cand[:, 0] == s.target).all()
            neg = s.cand[:, 1:]
            assert ((neg >= 1) & (neg < dd.n_items)).all()
            assert all(len(set(row)) == 10 for row in s.cand)
            users, items = dd.users[np.repeat(s.user, 9)], dd.items[neg.ravel()]
            assert not any((u, i) in seen for u, i in zip(users, items))


def test_candidates_depend_only_on_the_seed(tiny):
    paths, d = tiny
    again = data.prepare(*paths, kcore=3)
    other = data.prepare(*paths, kcore=3, seed=1)
    assert np.array_equal(d.domains["B"].test.cand, again.domains["B"].test.cand)
    assert not np.array_equal(d.domains["B"].test.cand, other.domains["B"].test.cand)
    assert np.array_equal(d.domains["B"].test.hist, other.domains["B"].test.hist)


def test_candidates_cover_the_unseen_items_roughly_uniformly():
    # one user who saw items 1..10 of 110: negatives are uniform over the other 100
    seen = np.arange(1, 11, dtype=np.int64)
    n = 5000
    cand = data.eval_candidates(np.zeros(n, np.int64), np.full(n, 3), 111, seen, 9, np.random.default_rng(0))
    counts = np.bincount(cand[:, 1:].ravel(), minlength=111)
    assert counts[:11].sum() == 0 and (counts[11:] > 0).all()
    assert abs(counts[11:].mean() - n * 9 / 100) < 1e-9 and counts[11:].std() < 0.1 * counts[11:].mean()


def test_user_who_saw_almost_everything_raises():
    seen = np.arange(1, 10, dtype=np.int64)  # user 0 saw 9 of 12 items: only 3 are left for 9 negatives
    with pytest.raises(DataError, match="cannot be drawn"):
        data.eval_candidates(np.zeros(2, np.int64), np.array([1, 2]), 13, seen, 9, np.random.default_rng(0))


# ---------------------------------------------------------------------------------- training negatives
def test_sample_negatives_uniform_and_never_the_target():
    rng = np.random.default_rng(0)
    target = np.repeat(np.arange(1, 6), 4000)
    neg = data.sample_negatives(target, 6, 3, rng)
    assert neg.shape == (20000, 3) and neg.dtype == np.int64
    assert ((neg >= 1) & (neg <= 5)).all() and (neg != target[:, None]).all()
    for t in range(1, 6):  # for each target the other 4 ids are equally likely
        counts = np.bincount(neg[target == t].ravel(), minlength=6)[1:]
        others = np.delete(counts, t - 1)
        assert counts[t - 1] == 0 and np.abs(others / others.sum() - 0.25).max() < 0.02
    with pytest.raises(ValueError):
        data.sample_negatives(np.array([1]), 2, 1, rng)


# ---------------------------------------------------------------------------------------------- describe
def test_describe_counts_overlap_and_lengths(hand):
    s = data.describe(*hand, kcore=1, n_eval_neg=2)
    assert s["A"]["users"] == 3 and s["A"]["items"] == 12 and s["A"]["records"] == 13
    assert s["A"]["overlap_items"] == pytest.approx(3 / 12) and s["B"]["overlap_items"] == pytest.approx(3 / 12)
    assert s["A"]["overlap_users"] == 1.0 and s["A"]["avg_length"] == pytest.approx(13 / 3)
    assert s["A"]["last_day"] == "1970-10-28" and s["A"]["test"] == 3
    assert "| #Users | 3 | 3 |" in data.markdown_table(s)


# ------------------------------------------------------------------------------------------- cold targets
def test_cold_target_shares_and_warm_only(hand):
    # u4 (days 1-3) puts items 0005, 0008, 0001 into training: valid targets 4, 8 -> 4 is cold (1/2);
    # test targets 5, 6, 9 -> 6 and 9 are cold (2/3).
    for path in hand:
        write(path, HAND_A + [("u4", "0005", 1), ("u4", "0008", 2), ("u4", "0001", 3)])
    d = prep(hand).domains["A"]
    assert data.cold_shares(d) == pytest.approx({"valid": 1 / 2, "test": 2 / 3})
    s = data.describe(*hand, kcore=1, n_eval_neg=2)
    assert (s["A"]["cold_valid"], s["A"]["cold_test"]) == pytest.approx((1 / 2, 2 / 3))
    assert "| Cold test targets | 66.67% |" in data.markdown_table(s, details=True)
    assert "67% of test and 50% of valid" in data.cold_warning(d) and data.cold_warning(d, limit=0.7) is None
    warm = prep(hand, warm_only=True).domains["A"]
    assert d.items[warm.valid.target].tolist() == ["0008"] and d.items[warm.test.target].tolist() == ["0005"]
    assert data.cold_shares(warm) == {"valid": 0.0, "test": 0.0}
    assert np.array_equal(warm.train.target, d.train.target)


def test_user_without_enough_negatives_is_dropped_with_a_warning_naming_the_user(hand):
    # "greedy" saw 11 of the 12 items: 1 unseen item < 2 negatives; its valid (0010) and test (0011) rows go.
    greedy = [("greedy", f"{k:04d}", k) for k in range(1, 10)] + [("greedy", "0010", 150), ("greedy", "0011", 250)]
    write(hand[0], HAND_A + greedy)
    with pytest.warns(data.DataWarning) as caught:
        d = prep(hand).domains["A"]
    messages = [str(w.message) for w in caught]
    assert len(messages) == 2 and all("dropped 1 instance(s) of 1 user(s)" in m and "'greedy'" in m
                                      for m in messages)
    assert "greedy" not in d.users[np.r_[d.valid.user, d.test.user]]
    assert d.test.target.tolist() == [5, 6, 9]  # everybody else's rows are kept


# ------------------------------------------------------------------------------------- python -m mini_man.data
def test_data_cli_prints_the_formats_and_cold_targets(tiny, capsys):
    assert data.main([str(p) for p in tiny[0]] + ["--kcore", "3"]) == 0
    out = capsys.readouterr().out
    assert "| Format | amazon2014 | amazon2014 |" in out and "| Cold test targets |" in out


@pytest.mark.parametrize("argv, words", [(["--format", "xlsx"], ["--format", "invalid choice"]),
                                         (["--split", "loo", "--kcore", "50"], ["no interactions left"]),
                                         (["--format", "sasrec", "--split", "loo"], ["expected 2"]),
                                         (["--format", "sasrec"], ["no timestamps", "--split loo"])])
def test_data_cli_bad_input_is_one_line_and_exit_2(hand, capsys, argv, words):
    with pytest.raises(SystemExit) as exit_:
        data.main([str(p) for p in hand] + argv)
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and len(err.strip().splitlines()) == 1 and "usage" not in err
    assert all(w in err for w in words), err


def test_more_evaluation_negatives_than_items_is_one_clear_error(tiny):
    paths, prepared = tiny
    n_items = prepared.domains["A"].n_items  # the padding id included
    with pytest.raises(DataError, match=f"at most {n_items - 3}; the paper: 9"):
        data.prepare(*paths, kcore=3, n_eval_neg=n_items - 2)
