"""Data: rating files (`mini_man.formats`, checked by `mini_man.checks`) -> k-core -> split -> instances -> fixed
evaluation candidates.

The paper describes its data in Sec. 4.1.1 and appendix A.4. The official preprocessing is
`reco_utils/dataset/sequential_reviews.py` (notes `official_code.md` §8-9). The two disagree in several places.
Each such place has a "Paper: ... Here: ..." note below, and `data/README.md` lists them all.

Pipeline of `prepare` (one domain at a time; the domains meet only in the global item vocabulary):
  load (any format of `formats.FORMATS`, every column checked by `checks`) -> sort each user's interactions by
  time -> drop duplicate (user, item) pairs, keeping the earliest -> k-core -> drop users left with a single
  interaction -> split the instances (time or leave-last-one-out) -> (warm_only: drop cold valid/test targets)
  -> local and global vocabularies -> instances (right-aligned histories) -> fixed evaluation candidates.
All steps are vectorised numpy/pandas. No step loops over rows; the loops run over history columns or
sampling rounds.
"""
import argparse
import sys
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from mini_man import checks, formats
from mini_man.formats import DataError, DataWarning  # noqa: F401 (re-exported: mini_man.data.DataError)

COLUMNS = ("user", "item", "rating", "timestamp")
DOMAINS = ("A", "B")
SPLITS = ("train", "valid", "test")
KCORE_MODES = ("paper", "official")
SPLIT_MODES = ("time", "loo")
DAY = 86400  # seconds; Amazon timestamps are day-granular
NEEDS = {  # what a user needs under each split, for the messages of an empty domain or split
    "time": "with --split time a training instance also needs its target before the validation and test windows "
            "(the domain's last valid_days + test_days days)",
    "loo": "with --split loo a user needs 4 for a training instance (the last item is the test target, the one "
           "before it the validation target), 3 for a validation one"}
COLD_LIMIT = 0.2  # training warns above this share of cold valid/test targets (`cold_warning`)


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
    format: str = ""  # the file format it was read from (`formats.FORMATS`)

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
def load_ratings(path, format: str = "auto") -> pd.DataFrame:
    """Read one rating file in `format` (see `formats.FORMATS`; "auto" decides from the content); rows in any order.

    User and item ids stay strings (`0545112141` keeps its leading zero; `NA` stays `NA`). Every rating counts as
    an implicit positive, as in the paper (A.4). Every column is checked (`checks.check`): a value that cannot be
    right raises `DataError` with its count and an example line; millisecond timestamps become seconds.
    Returns columns user (str), item (str), rating (float64), timestamp (int64 seconds; the file position for the
    `sasrec` format, which has no time), in file order.
    """
    fmt = formats.resolve(path, format)
    return checks.check(formats.read(path, fmt), path, fmt)


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


def load_domain(path, name: str = "", kcore: int = 10, kcore_mode: str = "paper",
                format: str = "auto", split: str = "time") -> pd.DataFrame:
    """Load one domain and filter it: duplicates -> k-core -> single-interaction users.

    Returns the kept interactions sorted by (user, timestamp). Ties on a day keep the file order (stable sort),
    as the official `_create_instance` does. A duplicate (user, item) pair keeps its earliest row.
    A user left with a single interaction has no (history, target) instance and is dropped; this can only
    happen when kcore <= 1. Raises `DataError` if nothing is left (`split` only words that message).
    """
    df = load_ratings(path, format)
    ucode, _ = pd.factorize(df["user"], sort=True)
    icode, _ = pd.factorize(df["item"], sort=True)
    order = np.lexsort((df["timestamp"].to_numpy(), ucode))  # stable: ties keep file order
    ucode, icode = ucode[order], icode[order]
    # Paper: no rule. Official: `drop_duplicates` keeps the first row in file order. Here: the earliest row.
    first = ~pd.Series(ucode * np.int64(icode.max() + 1) + icode).duplicated().to_numpy()
    keep = np.flatnonzero(first)
    keep = keep[kcore_mask(ucode[keep], icode[keep], kcore, kcore_mode)]
    label = f"domain {name} ({path})" if name else str(path)
    if keep.size == 0:
        raise DataError(f"{label}: no interactions left after the {kcore}-core filter (mode {kcore_mode!r}); "
                        "for sparser data lower --kcore (the generated sparse and toy settings are read with "
                        "--kcore 2)")
    keep = keep[np.bincount(ucode[keep])[ucode[keep]] >= 2]  # single-interaction users: no instance
    if keep.size == 0:
        after = f" after the {kcore}-core filter" if kcore > 1 else ""
        raise DataError(f"{label}: every user has a single interaction{after}, so there is no instance: an instance "
                        f"is a user's earlier items (the history) and the next item, so a user needs at least 2 "
                        f"interactions; {NEEDS[split]}")
    return df.take(order[keep]).reset_index(drop=True)


# ------------------------------------------------------------------------------------------------- preparing
def prepare(path_a, path_b, *, max_len=20, kcore=10, kcore_mode="paper", split="time",
            valid_days=90, test_days=90, n_eval_neg=9, seed=0, format="auto", warm_only=False,
            shared_item_ids=False) -> CrossDomainData:
    """Prepare both domains from their rating files (A = Video Games, B = Toys and Games in the paper).

    - format: one of `formats.NAMES` for both files; "auto" (default) decides per file from its content.

    - kcore, kcore_mode: see `kcore_mask` (kcore <= 1 switches the filter off).
    - split "time" (default): per domain, test = instances whose target falls in [t_max - test_days, t_max],
      valid = the `valid_days` before, train = earlier; t_max = that domain's last day.
      Paper: "before/after June of the last year" (A.4). Here: the windows of the authors' released files
      (valid A 2014-01-21..04-21, test A 2014-04-22..07-21), which neither the paper nor the code produce.
      split "loo": each user's last instance is test, the one before valid, the rest train (SASRec).
    - max_len: T, the most recent T items before the target (Sec. 4.1.3: 20).
    - n_eval_neg, seed: every valid/test instance gets 1 + n_eval_neg candidates, fixed here (see
      `eval_candidates`), so every model is scored on the same lists. A user who has seen all but fewer than
      n_eval_neg items has no such list: that user's valid/test instances are dropped with a `DataWarning`.
    - warm_only: drop the valid/test instances whose target never occurs in the training split ("cold" targets,
      `cold_shares`). Default False: all targets, as in the authors' released files behind the paper's Table 2.
    - shared_item_ids: the global vocabulary (the shared item table) joins the two domains' items by their id
      strings. Amazon ids (and `csv` files) are one id space and always joined. SASRec and RecBole files number
      their items per file, so by default their ids are per domain (item "3" of A is not item "3" of B);
      shared_item_ids=True says the two files share one id space and joins them too.
    """
    rules = [(kcore_mode in KCORE_MODES, f"kcore_mode must be one of {KCORE_MODES}, got {kcore_mode!r}"),
              (split in SPLIT_MODES, f"split must be one of {SPLIT_MODES}, got {split!r}"),
              (max_len >= 1, f"max_len must be >= 1, got {max_len}"),
              (n_eval_neg >= 1, f"n_eval_neg must be >= 1, got {n_eval_neg}"),
              (valid_days >= 1 and test_days >= 1, f"valid_days and test_days must be >= 1, got "
                                                   f"{valid_days}, {test_days}")]
    for ok, message in rules:
        if not ok:
            raise ValueError(message)
    paths = dict(zip(DOMAINS, (path_a, path_b)))
    frames, fmts = _load_both(paths, kcore, kcore_mode, format, split)
    return _prepare_frames(frames, paths, fmts, max_len=max_len, split=split, valid_days=valid_days,
                           test_days=test_days, n_eval_neg=n_eval_neg, seed=seed, warm_only=warm_only,
                           shared_item_ids=shared_item_ids)


def _load_both(paths: dict, kcore, kcore_mode, format, split) -> tuple[dict, dict]:
    """({domain: filtered frame}, {domain: Format}); a time split of a file without timestamps is refused."""
    fmts = {d: formats.resolve(paths[d], format) for d in DOMAINS}
    for d, fmt in fmts.items():
        if split == "time" and fmt.time_unit is None:
            raise DataError(f"{paths[d]}: format {fmt.name} has no timestamps (the order only), so there is no time "
                            "split: use split='loo' (--split loo)")
    return {d: load_domain(paths[d], d, kcore, kcore_mode, fmts[d].name, split) for d in DOMAINS}, fmts


def per_domain_items(fmt: formats.Format, shared_item_ids: bool) -> bool:
    """Whether a domain read as `fmt` keeps its item ids apart from the other domain's (see `prepare`)."""
    return fmt.per_domain_items and not shared_item_ids


def _prepare_frames(frames, paths, fmts, *, max_len, split, valid_days, test_days, n_eval_neg, seed,
                    warm_only, shared_item_ids=False) -> CrossDomainData:
    # Paper: |I^A|, |I^B| and |I^A u I^B| tables (Eq. 1-2). Official: one shared vocab from the 5%-sampled train
    # files only (~40% of test positives OOV, notes §9.4). Here: local vocabularies from ALL kept interactions
    # of the domain, and a global one over the union of item keys; no target is out of vocabulary. The key is the
    # item string, or "A:3" for item "3" of a domain whose ids are per domain (`per_domain_items`).
    prefix = {d: f"{d}:" if per_domain_items(fmts[d], shared_item_ids) else "" for d in DOMAINS}
    keys = {d: _keys(frames[d]["item"].unique(), prefix[d]) for d in DOMAINS}
    union = np.unique(np.concatenate(list(keys.values())).astype(object))
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
        label = f"domain {d} ({paths[d]})"
        if n_eval_neg > n_items - 3:  # n_items counts the padding id; a target's user has >= 2 of the items
            raise DataError(f"{label}: {n_eval_neg:,} evaluation negatives per target, but the domain has only "
                            f"{n_items - 1:,} items after the k-core and a target's user has at least two of them "
                            f"(at most {n_items - 3:,}; the paper: 9)")
        splits = {}
        for s_index, name in enumerate(SPLITS):
            # Paper: every interaction after the first. Official: a ~5% random sample (notes §8.6). Here: all.
            rows = np.flatnonzero((pos >= 1) & (part == s_index))
            if name != "train":
                if warm_only:
                    rows = rows[warm_items(splits["train"], n_items)[local[rows]]]
                short = unseen_items(user[rows].astype(np.int64), n_items, seen) < n_eval_neg
                if short.any():
                    warnings.warn(f"{label}: {name}: dropped {short.sum():,} instance(s) of "
                                  f"{np.unique(user[rows[short]]).size:,} user(s) who interacted with all but fewer "
                                  f"than {n_eval_neg} of the {n_items - 1} items, so {n_eval_neg} negatives cannot be "
                                  f"drawn, e.g. user {users[user[rows[short][0]]]!r}", DataWarning, stacklevel=3)
                    rows = rows[~short]
            if rows.size == 0:
                raise DataError(f"{label}: the {name} split is empty (split={split!r}, valid_days={valid_days}, "
                                f"test_days={test_days}{', warm_only=True' if warm_only else ''})"
                                + (f"; {NEEDS['loo']}" if split == "loo" else ""))
            u, target = user[rows].astype(np.int64), local[rows]
            cand = None
            if name != "train":
                rng = np.random.default_rng((seed, d_index, s_index))
                cand = eval_candidates(u, target, n_items, seen, n_eval_neg, rng, label=label)
            splits[name] = Split(user=u, hist=histories(local, pos, rows, max_len), target=target, cand=cand)
        global_ids = np.concatenate([[0], np.searchsorted(union, _keys(items[1:], prefix[d])) + 1]).astype(np.int64)
        domains[d] = DomainData(name=d, n_items=n_items, items=items, global_ids=global_ids,
                                users=np.asarray(users, dtype=object), format=fmts[d].name, **splits)
    return CrossDomainData(domains=domains, n_global_items=len(union) + 1, max_len=max_len)


def _keys(items: np.ndarray, prefix: str) -> np.ndarray:
    """The global-vocabulary keys of item strings: the strings themselves, or with `prefix` ("A:") in front."""
    return items if not prefix else np.char.add(prefix, items.astype(str)).astype(object)


def _split_labels(ts, pos, length, split, valid_days, test_days) -> np.ndarray:
    """(n,) 0 = train, 1 = valid, 2 = test for every interaction (only instances, pos >= 1, are used)."""
    if split == "loo":
        from_end = length - 1 - pos  # 0 = the user's last interaction
        return np.where(from_end == 0, 2, np.where(from_end == 1, 1, 0))
    cut_test = ts.max() - test_days * DAY
    cut_valid = cut_test - valid_days * DAY
    return np.where(ts >= cut_test, 2, np.where(ts >= cut_valid, 1, 0))


def warm_items(train: Split, n_items: int) -> np.ndarray:
    """(n_items,) bool: the items that occur in the training split, as a target or in a training history."""
    warm = np.zeros(n_items, dtype=bool)
    warm[train.target] = True
    warm[train.hist.ravel()] = True
    warm[0] = False  # padding
    return warm


def cold_shares(dd: DomainData) -> dict:
    """{"valid", "test"}: share of the split's targets that never occur in the training split ("cold" targets).

    A model has never trained on a cold item's embedding as a positive or in a history (only, at random, as a
    negative), so it scores it near its initial value, and a popularity scorer ranks it last. Many cold targets
    pull AUC/GAUC towards or below 0.5 for every model; `prepare(..., warm_only=True)` leaves them out.
    """
    warm = warm_items(dd.train, dd.n_items)
    return {s: float(np.mean(~warm[getattr(dd, s).target])) for s in ("valid", "test")}


def cold_warning(dd: DomainData, limit: float = COLD_LIMIT) -> str | None:
    """One line for the training log when more than `limit` of the domain's valid or test targets are cold."""
    cold = cold_shares(dd)
    if max(cold.values()) <= limit:
        return None
    return (f"domain {dd.name}: {cold['test']:.0%} of test and {cold['valid']:.0%} of valid targets never occur in "
            "training; every model scores them blindly, which pulls AUC/GAUC towards 0.5 (popularity below it) and "
            "hit rates down; --warm-targets-only evaluates the others only")


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
    short = unseen_items(user, n_items, seen) < n_neg
    if short.any():  # `prepare` drops these rows first; a direct caller gets the user's index
        raise DataError(f"{label}: user index {user[short][0]} has interacted with all but "
                        f"{unseen_items(user[short][:1], n_items, seen)[0]} of the {n_items - 1} items; "
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


def unseen_items(user: np.ndarray, n_items: int, seen: np.ndarray) -> np.ndarray:
    """(N,) how many of the domain's n_items - 1 items each row's user never interacted with (`seen` as above)."""
    if len(user) == 0:
        return np.zeros(0, dtype=np.int64)
    lo = np.searchsorted(seen, user * n_items)
    hi = np.searchsorted(seen, (user + 1) * n_items)
    return n_items - 1 - (hi - lo)


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
def describe(path_a, path_b, *, kcore=10, kcore_mode="paper", format="auto", **prepare_kw) -> dict:
    """Statistics in the shape of the paper's Table 1, after filtering, plus the instance counts per split.

    Returns {"A": {...}, "B": {...}} with keys users, items, records, overlap_items (share of this domain's
    items that also occur in the other domain), overlap_users, avg_length (records / users), density
    (records / (users * items)), first_day, last_day (YYYY-MM-DD, UTC; "n/a" without timestamps), train, valid,
    test (instances), format (the file's), item_ids ("shared" or "per domain", see `prepare`), cold_valid,
    cold_test (`cold_shares`). Overlap items count the items that share a row of the global vocabulary.
    `prepare_kw` goes to `prepare` (split, valid_days, test_days, warm_only, shared_item_ids, ...).
    """
    paths = dict(zip(DOMAINS, (path_a, path_b)))
    kw = dict(max_len=20, split="time", valid_days=90, test_days=90, n_eval_neg=9, seed=0, warm_only=False,
              shared_item_ids=False)
    kw |= prepare_kw
    frames, fmts = _load_both(paths, kcore, kcore_mode, format, kw["split"])
    data = _prepare_frames(frames, paths, fmts, **kw)
    out = {}
    for d, other in zip(DOMAINS, DOMAINS[::-1]):
        f, g = frames[d], frames[other]
        users, items = f["user"].unique(), f["item"].unique()
        day = pd.to_datetime(f["timestamp"].agg(["min", "max"]), unit="s").dt.strftime("%Y-%m-%d")
        if fmts[d].time_unit is None:
            day = {"min": "n/a", "max": "n/a"}
        cold = cold_shares(data.domains[d])
        mine, theirs = data.domains[d].global_ids[1:], data.domains[other].global_ids[1:]
        out[d] = {"users": len(users), "items": len(items), "records": len(f),
                  "overlap_items": float(np.isin(mine, theirs).mean()),
                  "overlap_users": float(np.isin(users, g["user"].unique()).mean()),
                  "avg_length": len(f) / len(users), "density": len(f) / (len(users) * len(items)),
                  "first_day": day["min"], "last_day": day["max"],
                  **{s: data.domains[d].stats()[s] for s in SPLITS},
                  "format": fmts[d].name, "cold_valid": cold["valid"], "cold_test": cold["test"],
                  "item_ids": "per domain" if per_domain_items(fmts[d], kw["shared_item_ids"]) else "shared"}
    return out


def markdown_table(stats: dict, names=("A", "B"), details: bool = False) -> str:
    """`describe` output as a Markdown table (rows as in the paper's Table 1, columns = domains); with `details`,
    also the file format, the shares of cold valid/test targets and whether item ids are shared or per domain."""
    rows = [("#Users", "users", "{:,}"), ("#Items", "items", "{:,}"), ("#Records", "records", "{:,}"),
            ("Overlap items", "overlap_items", "{:.2%}"), ("Overlap users", "overlap_users", "{:.2%}"),
            ("Avg. length", "avg_length", "{:.2f}"), ("Density", "density", "{:.4%}"),
            ("First day", "first_day", "{}"), ("Last day", "last_day", "{}"),
            ("Train instances", "train", "{:,}"), ("Valid instances", "valid", "{:,}"),
            ("Test instances", "test", "{:,}")]
    if details:
        rows += [("Cold valid targets", "cold_valid", "{:.2%}"), ("Cold test targets", "cold_test", "{:.2%}"),
                 ("Format", "format", "{}"), ("Item ids", "item_ids", "{}")]
    lines = ["| | " + " | ".join(names) + " |", "|---|" + "---:|" * len(names)]
    lines += [f"| {label} | " + " | ".join(fmt.format(stats[d][key]) for d in DOMAINS) + " |"
              for label, key, fmt in rows]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------- command line
class OneLineParser(argparse.ArgumentParser):
    """argparse whose errors are one line on stderr (no usage block); the exit code stays 2."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}\n")


@contextmanager
def warnings_as_lines(say):
    """Inside the block, warnings are collected; at its end (also on an error) each goes to `say` as one line."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            yield
        finally:
            for w in caught:
                say(f"warning: {w.message}")


def main(argv=None) -> int:
    """`python -m mini_man.data A B`: the Table-1 statistics (with the formats and cold targets) on stdout; bad
    input: one line on stderr, exit code 2."""
    p = OneLineParser(prog="python -m mini_man.data",
                      description="Print Table-1 statistics of two rating files after filtering.")
    p.add_argument("domain_a", help="rating file of domain A")
    p.add_argument("domain_b", help="rating file of domain B")
    p.add_argument("--format", choices=formats.NAMES, default="auto",
                   help="file format of both files; auto decides per file from its content (default: auto)")
    p.add_argument("--kcore", type=int, default=10)
    p.add_argument("--kcore-mode", choices=KCORE_MODES, default="paper")
    p.add_argument("--split", choices=SPLIT_MODES, default="time")
    p.add_argument("--warm-targets-only", action="store_true",
                   help="drop valid/test instances whose target never occurs in training")
    p.add_argument("--shared-item-ids", action="store_true",
                   help="the two files number their items in one id space: join them by id string also for "
                        "SASRec/RecBole files, whose ids are per domain otherwise (Amazon ids are always shared)")
    a = p.parse_args(argv)
    try:
        with warnings_as_lines(lambda line: print(f"{p.prog}: {line}", file=sys.stderr)):
            stats = describe(a.domain_a, a.domain_b, kcore=a.kcore, kcore_mode=a.kcore_mode, format=a.format,
                             split=a.split, warm_only=a.warm_targets_only, shared_item_ids=a.shared_item_ids)
    except ValueError as e:  # DataError is a ValueError
        p.error(str(e))
    print(markdown_table(stats, details=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
