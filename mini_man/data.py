"""Data: Amazon-2014 "ratings only" files -> k-core -> split -> instances -> fixed evaluation candidates.

The paper describes its data in Sec. 4.1.1 and appendix A.4. The official preprocessing is
`reco_utils/dataset/sequential_reviews.py` (notes `official_code.md` §8-9). The two disagree in several places.
Each such place has a "Paper: ... Here: ..." note below, and `data/README.md` lists them all.

Pipeline of `prepare` (one domain at a time; the domains meet only in the global item vocabulary):
  load -> sort each user's interactions by time -> drop duplicate (user, item) pairs, keeping the earliest
  -> k-core -> drop users left with a single interaction -> split the instances (time or leave-last-one-out)
  -> local and global vocabularies -> instances (right-aligned histories) -> fixed evaluation candidates.
All steps are vectorised numpy/pandas. No step loops over rows; the loops run over history columns or
sampling rounds.
"""
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

COLUMNS = ("user", "item", "rating", "timestamp")
DOMAINS = ("A", "B")
SPLITS = ("train", "valid", "test")
KCORE_MODES = ("paper", "official")
SPLIT_MODES = ("time", "loo")
DAY = 86400  # seconds; Amazon timestamps are day-granular


class DataError(ValueError):
    """Bad input data. The one-line message names the file (or domain) and the problem."""


@dataclass
class Split:
    """One split of one domain: N instances (history -> next item)."""

    user: np.ndarray  # (N,) int64 user index within the domain (indexes DomainData.users; GAUC groups by it)
    hist: np.ndarray  # (N, T) int64 local item ids, right-aligned: newest in column T-1, padding 0 on the left
    target: np.ndarray  # (N,) int64 local id of the next item (the positive)
    cand: np.ndarray | None  # (N, 1 + n_eval_neg) int64, column 0 == target; valid/test only, None for train


@dataclass
class DomainData:
    """One domain after preparation. Local item ids: 1..n_items-1, 0 = padding."""

    name: str  # "A" | "B"
    n_items: int  # local vocabulary size INCLUDING padding id 0
    items: np.ndarray  # (n_items,) raw item id strings (object), items[0] = "" (padding)
    global_ids: np.ndarray  # (n_items,) int64 local id -> global id, global_ids[0] == 0
    train: Split
    valid: Split
    test: Split
    users: np.ndarray | None = None  # (n_users,) raw user id strings (object); Split.user indexes it

    def stats(self) -> dict:
        """{"users", "items", "train", "valid", "test"} as plain ints (items exclude padding)."""
        splits = (self.train, self.valid, self.test)
        users = np.unique(np.concatenate([s.user for s in splits]))
        return {"users": int(users.size), "items": int(self.n_items - 1),
                **{name: int(len(s.target)) for name, s in zip(SPLITS, splits)}}


@dataclass
class CrossDomainData:
    """Both domains. Global item ids (over the union of item strings): 1..n_global_items-1, 0 = padding."""

    domains: dict  # {"A": DomainData, "B": DomainData}
    n_global_items: int  # INCLUDING padding id 0
    max_len: int  # T


# ----------------------------------------------------------------------------------------------------- loading
def load_ratings(path) -> pd.DataFrame:
    """Read one ratings CSV: no header, 4 columns user,item,rating,timestamp; rows in any order.

    User and item ids stay strings (`0545112141` keeps its leading zero; `NA` stays `NA`). Every rating counts as
    an implicit positive, as in the paper (A.4). Raises `DataError` for: missing file, empty file, header row,
    wrong number of columns, empty field, non-numeric rating, non-integer timestamp.
    Returns columns user (str), item (str), rating (float64), timestamp (int64), in file order.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    try:
        df = pd.read_csv(path, header=None, dtype={0: str, 1: str}, na_filter=False, low_memory=False)
    except pd.errors.EmptyDataError:
        raise DataError(f"{path}: empty file (expected rows user,item,rating,timestamp)") from None
    except pd.errors.ParserError as e:
        detail = str(e).strip().splitlines()[-1].removeprefix("Error tokenizing data. C error: ")
        raise DataError(f"{path}: wrong number of columns ({detail}); expected 4: user,item,rating,timestamp") \
            from None
    if df.shape[1] != 4:
        raise DataError(f"{path}: {df.shape[1]} columns, expected 4: user,item,rating,timestamp (no header)")
    df.columns = list(COLUMNS)
    rating = pd.to_numeric(df["rating"], errors="coerce").to_numpy(np.float64)
    ts = pd.to_numeric(df["timestamp"], errors="coerce").to_numpy(np.float64)
    bad_rating = ~np.isfinite(rating)
    bad_ts = ~np.isfinite(ts) | (ts != np.floor(ts))
    if bad_rating[0] and bad_ts[0]:
        raise DataError(f"{path}: row 1 looks like a header ({','.join(map(str, df.iloc[0]))!r}); "
                        "the files have no header row: remove it")
    bad = bad_rating | bad_ts | (df["user"] == "").to_numpy() | (df["item"] == "").to_numpy()
    if bad.any():
        row = int(np.argmax(bad))
        fields = [str(x) for x in df.iloc[row]]
        what = ("an empty field (fewer than 4 columns?)" if "" in fields else
                "a non-numeric rating" if bad_rating[row] else "a timestamp that is not a whole number of seconds")
        raise DataError(f"{path}: row {row + 1} has {what}: {','.join(fields)!r}")
    return pd.DataFrame({"user": df["user"], "item": df["item"], "rating": rating, "timestamp": ts.astype(np.int64)})


def kcore_mask(user: np.ndarray, item: np.ndarray, k: int, mode: str = "paper") -> np.ndarray:
    """(n,) bool: which interactions survive the k-core filter. `user`, `item`: (n,) int codes, pairs unique.

    mode "paper": the "10-core" of A.4 -- every user AND every item keeps >= k interactions, iterated to the
    fixed point. mode "official": the official `filter_k_core` -- one pass, users with >= k items; items are
    not filtered (notes §8.2).
    """
    keep = np.ones(len(user), dtype=bool)
    while True:
        u, i = user[keep], item[keep]
        bad = np.bincount(u)[u] < k
        if mode == "paper":
            bad |= np.bincount(i)[i] < k
        keep[np.flatnonzero(keep)[bad]] = False
        if mode == "official" or not bad.any():
            return keep


def load_domain(path, name: str = "", kcore: int = 10, kcore_mode: str = "paper") -> pd.DataFrame:
    """Load one domain and filter it: duplicates -> k-core -> single-interaction users.

    Returns the kept interactions sorted by (user, timestamp). Ties on a day keep the file order (stable sort),
    as the official `_create_instance` does. A duplicate (user, item) pair keeps its earliest row.
    A user left with a single interaction has no (history, target) instance and is dropped; this can only
    happen when kcore <= 1. Raises `DataError` if nothing is left.
    """
    df = load_ratings(path)
    ucode, _ = pd.factorize(df["user"], sort=True)
    icode, _ = pd.factorize(df["item"], sort=True)
    order = np.lexsort((df["timestamp"].to_numpy(), ucode))  # stable: ties keep file order
    ucode, icode = ucode[order], icode[order]
    # Paper: no rule. Official: `drop_duplicates` keeps the first row in file order. Here: the earliest row.
    first = ~pd.Series(ucode * np.int64(icode.max() + 1) + icode).duplicated().to_numpy()
    keep = np.flatnonzero(first)
    keep = keep[kcore_mask(ucode[keep], icode[keep], kcore, kcore_mode)]
    keep = keep[np.bincount(ucode[keep])[ucode[keep]] >= 2]  # single-interaction users: no instance
    if keep.size == 0:
        label = f"domain {name} ({path})" if name else str(path)
        raise DataError(f"{label}: no interactions left after the {kcore}-core filter (mode {kcore_mode!r})")
    return df.take(order[keep]).reset_index(drop=True)


# ------------------------------------------------------------------------------------------------- preparing
def prepare(path_a, path_b, *, max_len=20, kcore=10, kcore_mode="paper", split="time",
            valid_days=90, test_days=90, n_eval_neg=9, seed=0) -> CrossDomainData:
    """Prepare both domains from their ratings CSVs (A = Video Games, B = Toys and Games in the paper).

    - kcore, kcore_mode: see `kcore_mask` (kcore <= 1 switches the filter off).
    - split "time" (default): per domain, test = instances whose target falls in [t_max - test_days, t_max],
      valid = the `valid_days` before, train = earlier; t_max = that domain's last day.
      Paper: "before/after June of the last year" (A.4). Here: the windows of the authors' released files
      (valid A 2014-01-21..04-21, test A 2014-04-22..07-21), which neither the paper nor the code produce.
      split "loo": each user's last instance is test, the one before valid, the rest train (SASRec).
    - max_len: T, the most recent T items before the target (Sec. 4.1.3: 20).
    - n_eval_neg, seed: every valid/test instance gets 1 + n_eval_neg candidates, fixed here (see
      `eval_candidates`), so every model is scored on the same lists.
    """
    checks = [(kcore_mode in KCORE_MODES, f"kcore_mode must be one of {KCORE_MODES}, got {kcore_mode!r}"),
              (split in SPLIT_MODES, f"split must be one of {SPLIT_MODES}, got {split!r}"),
              (max_len >= 1, f"max_len must be >= 1, got {max_len}"),
              (n_eval_neg >= 1, f"n_eval_neg must be >= 1, got {n_eval_neg}"),
              (valid_days >= 1 and test_days >= 1, f"valid_days and test_days must be >= 1, got "
                                                   f"{valid_days}, {test_days}")]
    for ok, message in checks:
        if not ok:
            raise ValueError(message)
    paths = dict(zip(DOMAINS, (path_a, path_b)))
    frames = {d: load_domain(paths[d], d, kcore, kcore_mode) for d in DOMAINS}
    return _prepare_frames(frames, paths, max_len=max_len, split=split, valid_days=valid_days,
                           test_days=test_days, n_eval_neg=n_eval_neg, seed=seed)


def _prepare_frames(frames, paths, *, max_len, split, valid_days, test_days, n_eval_neg, seed) -> CrossDomainData:
    # Paper: |I^A|, |I^B| and |I^A u I^B| tables (Eq. 1-2). Official: one shared vocab from the 5%-sampled train
    # files only (~40% of test positives OOV, notes §9.4). Here: local vocabularies from ALL kept interactions
    # of the domain, and a global one over the union of item strings; no target is out of vocabulary.
    union = np.unique(np.concatenate([f["item"].unique() for f in frames.values()]).astype(object))
    domains = {}
    for d_index, d in enumerate(DOMAINS):
        df = frames[d]
        user, users = pd.factorize(df["user"], sort=True)
        icode, items = pd.factorize(df["item"], sort=True)
        items = np.concatenate([[""], np.asarray(items, dtype=object)]).astype(object)
        n_items = len(items)
        local = icode.astype(np.int64) + 1
        ts = df["timestamp"].to_numpy()
        counts = np.bincount(user)
        start = np.cumsum(counts) - counts  # first row of each user (rows are sorted by user, then time)
        pos = np.arange(len(df)) - start[user]  # position in the user's sequence
        part = _split_labels(ts, pos, counts[user], split, valid_days, test_days)
        seen = np.sort(user.astype(np.int64) * n_items + local)  # every (user, item) pair of the domain
        splits = {}
        for s_index, name in enumerate(SPLITS):
            # Paper: every interaction after the first. Official: a ~5% random sample (notes §8.6). Here: all.
            rows = np.flatnonzero((pos >= 1) & (part == s_index))
            if rows.size == 0:
                raise DataError(f"domain {d} ({paths[d]}): the {name} split is empty (split={split!r}, "
                                f"valid_days={valid_days}, test_days={test_days})")
            u, target = user[rows].astype(np.int64), local[rows]
            cand = None
            if name != "train":
                rng = np.random.default_rng((seed, d_index, s_index))
                cand = eval_candidates(u, target, n_items, seen, n_eval_neg, rng, label=f"domain {d} ({paths[d]})")
            splits[name] = Split(user=u, hist=histories(local, pos, rows, max_len), target=target, cand=cand)
        global_ids = np.concatenate([[0], np.searchsorted(union, items[1:]) + 1]).astype(np.int64)
        domains[d] = DomainData(name=d, n_items=n_items, items=items, global_ids=global_ids,
                                users=np.asarray(users, dtype=object), **splits)
    return CrossDomainData(domains=domains, n_global_items=len(union) + 1, max_len=max_len)


def _split_labels(ts, pos, length, split, valid_days, test_days) -> np.ndarray:
    """(n,) 0 = train, 1 = valid, 2 = test for every interaction (only instances, pos >= 1, are used)."""
    if split == "loo":
        from_end = length - 1 - pos  # 0 = the user's last interaction
        return np.where(from_end == 0, 2, np.where(from_end == 1, 1, 0))
    cut_test = ts.max() - test_days * DAY
    cut_valid = cut_test - valid_days * DAY
    return np.where(ts >= cut_test, 2, np.where(ts >= cut_valid, 1, 0))


def histories(local: np.ndarray, pos: np.ndarray, rows: np.ndarray, T: int) -> np.ndarray:
    """(N, T) int64 histories of the instances at `rows`: the <= T items just before each, right-aligned.

    `local`: (n,) item ids of all interactions sorted by (user, time); `pos`: (n,) position within the user.
    Column T-k holds the k-th most recent item; columns without an item are 0 (left padding). The history spans
    all splits: a test instance sees the user's earlier train, valid and test items, as in the paper and the
    released files (notes §8.6).
    Official: right-padded, oldest first (notes §10.4). Here: right-aligned, the SASRec convention, so the newest
    item is always at column T-1.
    """
    hist = np.zeros((len(rows), T), dtype=np.int64)
    p = pos[rows]
    for k in range(1, T + 1):
        has = p >= k
        hist[has, T - k] = local[rows[has] - k]
    return hist


def eval_candidates(user, target, n_items, seen, n_neg, rng, label="") -> np.ndarray:
    """(N, 1 + n_neg) fixed candidates: the target, then n_neg distinct negatives.

    Negatives are uniform over the domain's items that the user never interacted with (in any split).
    `seen`: sorted int64 keys user * n_items + item of all the domain's interactions.
    Paper: 1 + 9 candidates, no sampling rule. Official: popularity-proportional over all of the domain's
    interactions, may hit the user's history (notes §8.8). Here: uniform, never an item of the user.
    Drawn by oversampling and rejection; rows that fall short are redrawn with a larger oversample.
    """
    n_user_items = np.diff(np.searchsorted(seen, np.arange(user.max() + 2, dtype=np.int64) * n_items))
    short = n_items - 1 - n_user_items[user] < n_neg
    if short.any():
        raise DataError(f"{label}: user {user[short][0]} has interacted with all but "
                        f"{n_items - 1 - n_user_items[user[short][0]]} of the {n_items - 1} items; "
                        f"{n_neg} negatives cannot be drawn")
    cand = np.empty((len(target), 1 + n_neg), dtype=np.int64)
    cand[:, 0] = target
    todo, m = np.arange(len(target)), 2 * n_neg + 8
    while todo.size:
        draw = rng.integers(1, n_items, size=(todo.size, m))  # (R, m)
        key = user[todo, None] * n_items + draw
        at = np.minimum(np.searchsorted(seen, key), len(seen) - 1)
        ok = (seen[at] != key) & ~repeats_in_row(draw)
        got = np.cumsum(ok, axis=1)
        done = got[:, -1] >= n_neg
        take = ok[done] & (got[done] <= n_neg)  # the first n_neg accepted draws of each finished row
        cand[todo[done], 1:] = draw[done][take].reshape(-1, n_neg)
        todo, m = todo[~done], 2 * m
    return cand


def repeats_in_row(x: np.ndarray) -> np.ndarray:
    """(R, m) bool: True where the value already occurred earlier in the same row."""
    order = np.argsort(x, axis=1, kind="stable")
    s = np.take_along_axis(x, order, axis=1)
    rep = np.zeros_like(x, dtype=bool)
    np.put_along_axis(rep, order, np.concatenate([np.zeros((len(x), 1), bool), s[:, 1:] == s[:, :-1]], 1), 1)
    return rep


def sample_negatives(target: np.ndarray, n_items: int, k: int, rng: np.random.Generator) -> np.ndarray:
    """(N, k) training negatives, uniform over local ids 1..n_items-1 except the target; redrawn every epoch.

    A row may repeat a negative (sampling with replacement), and a negative may be in the user's history.
    Paper: "negative samples" (Eq. 16-17). Official: other targets of the same batch (notes §6).
    Here: uniform over the domain's items, which does not depend on the batch size.
    Exact and loop-free: draw from the n_items - 2 other ids and shift ids >= target up by one.
    """
    if n_items < 3:
        raise ValueError(f"need at least 2 real items to sample a negative, got n_items={n_items}")
    x = rng.integers(1, n_items - 1, size=(len(target), k))  # (N, k) in 1..n_items-2
    return x + (x >= np.asarray(target)[:, None])


# ---------------------------------------------------------------------------------------------- statistics
def describe(path_a, path_b, *, kcore=10, kcore_mode="paper", **split_kw) -> dict:
    """Statistics in the shape of the paper's Table 1, after filtering, plus the instance counts per split.

    Returns {"A": {...}, "B": {...}} with keys users, items, records, overlap_items (share of this domain's
    items that also occur in the other domain), overlap_users, avg_length (records / users), density
    (records / (users * items)), first_day, last_day (YYYY-MM-DD, UTC), train, valid, test (instances).
    `split_kw` goes to `prepare` (split, valid_days, test_days, ...).
    """
    paths = dict(zip(DOMAINS, (path_a, path_b)))
    frames = {d: load_domain(paths[d], d, kcore, kcore_mode) for d in DOMAINS}
    kw = dict(max_len=20, split="time", valid_days=90, test_days=90, n_eval_neg=9, seed=0) | split_kw
    data = _prepare_frames(frames, paths, **kw)
    out = {}
    for d, other in zip(DOMAINS, DOMAINS[::-1]):
        f, g = frames[d], frames[other]
        users, items = f["user"].unique(), f["item"].unique()
        day = pd.to_datetime(f["timestamp"].agg(["min", "max"]), unit="s").dt.strftime("%Y-%m-%d")
        out[d] = {"users": len(users), "items": len(items), "records": len(f),
                  "overlap_items": float(np.isin(items, g["item"].unique()).mean()),
                  "overlap_users": float(np.isin(users, g["user"].unique()).mean()),
                  "avg_length": len(f) / len(users), "density": len(f) / (len(users) * len(items)),
                  "first_day": day["min"], "last_day": day["max"],
                  **{s: data.domains[d].stats()[s] for s in SPLITS}}
    return out


def markdown_table(stats: dict, names=("A", "B")) -> str:
    """`describe` output as a Markdown table (rows as in the paper's Table 1, columns = domains)."""
    rows = [("#Users", "users", "{:,}"), ("#Items", "items", "{:,}"), ("#Records", "records", "{:,}"),
            ("Overlap items", "overlap_items", "{:.2%}"), ("Overlap users", "overlap_users", "{:.2%}"),
            ("Avg. length", "avg_length", "{:.2f}"), ("Density", "density", "{:.4%}"),
            ("First day", "first_day", "{}"), ("Last day", "last_day", "{}"),
            ("Train instances", "train", "{:,}"), ("Valid instances", "valid", "{:,}"),
            ("Test instances", "test", "{:,}")]
    lines = ["| | " + " | ".join(names) + " |", "|---|" + "---:|" * len(names)]
    lines += [f"| {label} | " + " | ".join(fmt.format(stats[d][key]) for d in DOMAINS) + " |"
              for label, key, fmt in rows]
    return "\n".join(lines)


if __name__ == "__main__":
    import argparse

    p = argparse.ArgumentParser(prog="python -m mini_man.data",
                                description="Print Table-1 statistics of two ratings CSVs after filtering.")
    p.add_argument("domain_a", help="ratings CSV of domain A")
    p.add_argument("domain_b", help="ratings CSV of domain B")
    p.add_argument("--kcore", type=int, default=10)
    p.add_argument("--kcore-mode", choices=KCORE_MODES, default="paper")
    p.add_argument("--split", choices=SPLIT_MODES, default="time")
    a = p.parse_args()
    try:
        print(markdown_table(describe(a.domain_a, a.domain_b, kcore=a.kcore, kcore_mode=a.kcore_mode,
                                      split=a.split)))
    except ValueError as e:
        p.error(str(e))
