"""A generated two-domain sample in the real Amazon-2014 "ratings only" format, with planted ground truth.

No machine here can download the Amazon files, so `data/sample/` is produced by this module and committed:

    python -m mini_man.sample --out data/sample --seed 0

How the data are generated (the datasheet data/sample/README.md has the numbers):
- G latent user groups (default 5), the SAME groups in both domains. Each domain's catalogue is cut into G
  "kinds"; group g prefers kind g, in A and in B alike: a step takes an item of the user's own kind with
  probability `p_own`, otherwise of a uniformly random kind (the paper's premise: "similar interest groups across
  different domains", Sec. 3.2.3 and 4.3).
- Short-term dynamics: with probability `p_next` the next item is one of `n_next` fixed "sequels" of the
  previous item (its successors on a random ring within its kind), a Markov step that sequence models can learn.
- Long-tailed popularity: within a kind, a fresh item is drawn with weight 1 / (rank + zipf_shift).
- Cross-domain links: a share of B's items carry the same item string as an item of A (the overlap items), and
  a few B users carry the string of an A user (overlap users). With the premise ON, an overlap item has the same
  kind in both domains and an overlap user the same group. With the premise OFF (the control), overlap items are
  paired with B items of any kind and overlap users get an independent group. Everything else, and the whole
  of file A, is identical, so "on minus off" isolates what crosses the domain boundary.
- B is the sparse domain: fewer users and shorter sequences than A for a similar catalogue.
- Timestamps: whole days (multiples of 86400 s) over `days` days ending on 2014-07-22 (UTC), non-decreasing along
  each user's sequence (a same-day gap with probability `p_same_day`). Ratings 1-5, written like "5.0".
- Rows are written in a seeded random order, like the real files.

Byte-for-byte reproducible: only `Generator.random()` is used (uniform doubles of the PCG64 bit stream), and
every distribution is drawn by inverse-CDF lookup with `searchsorted`; no transcendental functions.
"""
import argparse
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from mini_man import data as mdata
from mini_man import metrics
from mini_man.data import DOMAINS, repeats_in_row

END_DAY = 1405987200 // 86400  # 2014-07-22 00:00 UTC, the last day of the Amazon-2014 data
FILES = ("video_games.csv", "toys.csv")  # domain A, domain B
ALNUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
RATING_PMF = (0.05, 0.06, 0.11, 0.23, 0.55)  # P(rating = 1..5), skewed to 5 as on Amazon
# Named settings of `generate` (the datasheet data/sample/README.md gives each one's design and targets):
# "sample" is the committed data/sample/; "sparse" keeps A's design and makes B truly sparse, as on Amazon Toys:
# mostly new users (2 + a geometric number of interactions, mean 3.5) over a larger catalogue of rare items.
# It is generated on demand (data/sparse/, not committed) and read with a 2-core instead of the 10-core (KCORE).
# "toy" is notebook 10's toy where transfer must help by construction: 3 crisp groups and no sequels or popularity
# to learn; B's users have 2.5 items on average and every B item is an A item, so B's kinds can be learned from A's
# long histories but hardly from B's few pairs (premise off: the shared strings tie B items to A items of random kinds).
SETTINGS = {"sample": {},
            "sparse": dict(users=(1400, 4000), items=(1250, 2000), length=(21.0, 3.5), min_len=(12, 2)),
            "toy": dict(users=(400, 600), items=(90, 90), length=(20.0, 2.5), min_len=(10, 2), groups=3, p_own=0.9,
                        p_next=0.0, zipf_shift=(1000.0, 1000.0), shared_items=1.0, shared_users=0.0, days=365)}
KCORE = {"sample": 10, "sparse": 2, "toy": 2}


@dataclass
class Sample:
    """Two ratings tables in the real format and the planted ground truth."""

    a: pd.DataFrame  # user, item (str), rating (float64), timestamp (int64): domain A, rows in random order
    b: pd.DataFrame  # the same for domain B
    user_groups: pd.DataFrame  # domain, user, group (every user of the files)
    item_kinds: pd.DataFrame  # domain, item, kind (every item of the files)

    def write(self, out, suffix: str = "", with_a: bool = True) -> list[Path]:
        """Write the ratings CSVs (no header, like the real files) and the ground truth (with a header).

        `suffix` goes before ".csv". `with_a=False` leaves out domain A (file and ground-truth rows): the
        committed control shares domain A with the sample.
        """
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        named = lambda name: out / name.replace(".csv", f"{suffix}.csv")  # noqa: E731
        paths = []
        for df, name in ((self.a, FILES[0]), (self.b, FILES[1]))[0 if with_a else 1:]:
            paths.append(named(name))
            df.to_csv(paths[-1], header=False, index=False, float_format="%.1f", lineterminator="\n")
        for df, name in ((self.user_groups, "user_groups.csv"), (self.item_kinds, "item_kinds.csv")):
            paths.append(named(name))
            df[(df["domain"] == "B") | with_a].to_csv(paths[-1], index=False, lineterminator="\n")
        return paths


def generate(*, users=(1400, 1300), items=(1250, 1150), length=(21.0, 13.5), groups=5, premise=True, seed=0,
             min_len=12, p_own=0.75, p_next=0.4, n_next=3, zipf_shift=(5.0, 150.0), shared_items=0.09,
             shared_users=0.006, days=1096, gap_days=25.0, p_same_day=0.2) -> Sample:
    """Generate domains A and B. Sizes are (A, B) pairs, before any filtering.

    users, items: counts per domain; length: mean interactions per user (min_len + a geometric number; a few
    repeats of an item are dropped); min_len: one number for both domains or an (A, B) pair; shared_items: share
    of B's items that are also A items (same string); shared_users: share of B's users that are also A users;
    premise: shared groups on (True) or off (the control). The other parameters are described in the module
    docstring.
    """
    n_u, n_i = tuple(users), tuple(items)
    min_len = (min_len, min_len) if np.ndim(min_len) == 0 else tuple(min_len)
    if min(n_u) < 1 or min(n_i) < groups * (n_next + 1) or min(np.subtract(length, min_len)) <= 0 \
            or min(min_len) < 1:
        raise ValueError(f"need users >= 1, items >= groups * (n_next + 1) = {groups * (n_next + 1)} and "
                         f"length > min_len >= 1 per domain; got users={users}, items={items}, length={length}, "
                         f"min_len={min_len}")
    rng = np.random.default_rng(seed)
    weight = np.arange(groups, 0, -1, dtype=np.float64)  # group g has weight G - g: unequal groups (Fig. 4)
    user_ids = _unique_ids(rng, n_u[0] + n_u[1], lambda n: np.char.add("A", _strings(rng, n, 13, ALNUM)))
    item_ids = _unique_ids(rng, n_i[0] + n_i[1], lambda n: _asins(rng, n))
    user_ids, item_ids = [user_ids[: n_u[0]], user_ids[n_u[0]:]], [item_ids[: n_i[0]], item_ids[n_i[0]:]]
    group = [_draw(rng, weight, n) for n in n_u]  # (U,) latent group of each user, per domain
    demand = p_own * weight / weight.sum() + (1 - p_own) / groups  # expected share of steps on each kind
    kind = [np.repeat(np.arange(groups), _split_sizes(n, demand)) for n in n_i]  # items sorted by kind

    # Overlap users: B users that are also A users (same string); their B group follows the premise.
    n_ou = round(shared_users * n_u[1])
    ou_b, ou_a = _permutation(rng, n_u[1])[:n_ou], _permutation(rng, n_u[0])[:n_ou]
    user_ids[1][ou_b] = user_ids[0][ou_a]
    if premise:
        group[1][ou_b] = group[0][ou_a]

    # Overlap items: B items that carry an A item's string; with the premise, of the same kind.
    n_oi = round(shared_items * n_i[1])
    oi_a = np.sort(_permutation(rng, n_i[0])[:n_oi])
    rand_b = rng.random(n_i[1])
    if premise:
        by_kind = np.lexsort((rand_b, kind[1]))  # B items by kind, random within a kind
        kind_start = np.searchsorted(kind[1][by_kind], np.arange(groups))
        k = kind[0][oi_a]
        rank = np.arange(n_oi) - np.searchsorted(k, k)  # rank among the chosen A items of the same kind
        if (rank >= np.bincount(kind[1], minlength=groups)[k]).any():
            raise ValueError(f"shared_items={shared_items} is too large for B's kinds")
        oi_b = by_kind[kind_start[k] + rank]
    else:
        oi_b = np.argsort(rand_b, kind="stable")[:n_oi]
    item_ids[1][oi_b] = item_ids[0][oi_a]

    frames = []
    for d in range(2):
        user, item, day = _sequences(rng, group[d], kind[d], length[d], min_len[d], groups, p_own, p_next, n_next,
                                     zipf_shift[d], days, gap_days, p_same_day)
        n = len(user)
        rating = _draw(rng, np.array(RATING_PMF), n) + 1.0
        frame = pd.DataFrame({"user": user_ids[d][user], "item": item_ids[d][item], "rating": rating,
                              "timestamp": day * np.int64(86400)})
        frames.append(frame.take(_permutation(rng, n)).reset_index(drop=True))
    return Sample(a=frames[0], b=frames[1], user_groups=_truth(user_ids, group, "user", "group"),
                  item_kinds=_truth(item_ids, kind, "item", "kind"))


def _truth(ids, labels, key, col):
    """Ground truth table domain, key, col over both domains, sorted by domain then id."""
    df = pd.DataFrame({"domain": np.repeat(["A", "B"], [len(ids[0]), len(ids[1])]), key: np.concatenate(ids),
                       col: np.concatenate(labels)})
    return df.sort_values(["domain", key], ignore_index=True)


def _sequences(rng, group, kind, mean_len, min_len, groups, p_own, p_next, n_next, zipf_shift, days, gap_days,
               p_same_day):
    """Every user's sequence: user, item, day, each (n,) int64, grouped by user in time order."""
    U, n_items = len(group), len(kind)
    start = np.searchsorted(kind, np.arange(groups))  # first item of each kind
    size = np.diff(np.r_[start, n_items])
    rank = np.arange(n_items) - start[kind]  # popularity rank within the kind
    w = 1.0 / (rank + zipf_shift)  # Zipf-Mandelbrot popularity within the kind
    csum = np.r_[0.0, np.cumsum(w)]
    before, total = csum[start], csum[start + size] - csum[start]  # weight before / of each kind
    cdf = kind + (csum[1:] - before[kind]) / total[kind]  # kind k: cdf in (k, k + 1], exactly k + 1 at its end
    ring = np.argsort(kind + rng.random(n_items), kind="stable")  # random ring order within each kind
    ring_pos = np.empty(n_items, np.int64)
    ring_pos[ring] = np.arange(n_items) - start[kind[ring]]
    succ = np.stack([ring[start[kind] + (ring_pos + j) % size[kind]] for j in range(1, n_next + 1)], 1)  # (n, K)

    L = min_len + _draw(rng, _geometric(mean_len - min_len, int(40 * (mean_len - min_len)) + 1), U)
    T = int(L.max() * 1.25) + 5  # a few extra steps replace items that repeat within a user
    steps = np.zeros((U, T), np.int64)
    for t in range(T):
        u = rng.random((5, U))
        k = np.where(u[0] < p_own, group, np.floor(u[1] * groups).astype(np.int64))
        fresh = np.clip(np.searchsorted(cdf, k + u[2], side="right"), start[k], start[k] + size[k] - 1)
        nxt = succ[steps[:, t - 1], np.floor(u[3] * n_next).astype(np.int64)]
        steps[:, t] = np.where((t > 0) & (u[4] < p_next), nxt, fresh)
    first = ~repeats_in_row(steps)
    keep = first & (np.cumsum(first, axis=1) <= L[:, None])  # the first L distinct items of each user
    user, item = np.nonzero(keep)[0], steps[keep]
    n = len(user)
    count = np.bincount(user, minlength=U)
    pos = np.arange(n) - (np.cumsum(count) - count)[user]

    gap_pmf = np.r_[p_same_day, (1 - p_same_day) * _geometric(gap_days - 1, int(20 * gap_days))]  # 0 or >= 1 days
    gap = np.where(pos == 0, 0, _draw(rng, gap_pmf, n))
    rel = _cumsum_by_user(gap, user, count)  # (n,) days since the user's first interaction
    span = rel[np.cumsum(count) - 1]  # (U,) the user's active days
    late = np.floor(rng.random(U) * (days + 60 - span)).astype(np.int64) - 60  # < 0: active until the end
    last_day = END_DAY - np.maximum(late, 0)
    return user, item, last_day[user] - span[user] + rel


def _cumsum_by_user(x, user, count):
    """Running sum of x within each user's block (rows grouped by user)."""
    c = np.cumsum(x)
    return c - (c - x)[(np.cumsum(count) - count)[user]]


def _geometric(mean, n):
    """(n,) P(k) = (1 - q) q^k, k = 0..n-1, with mean q / (1 - q) = `mean`; powers by repeated multiplication."""
    q = mean / (mean + 1)
    return (1 - q) * np.cumprod(np.r_[1.0, np.full(n - 1, q)])


def _draw(rng, weights, n):
    """(n,) int64 indices drawn with probability proportional to `weights` (inverse CDF)."""
    cdf = np.cumsum(weights)
    return np.minimum(np.searchsorted(cdf, rng.random(n) * cdf[-1], side="right"), len(cdf) - 1)


def _permutation(rng, n):
    """A random permutation of 0..n-1 from uniform doubles only."""
    return np.argsort(rng.random(n), kind="stable")


def _split_sizes(n, share):
    """Split n into len(share) positive integer sizes proportional to `share` (largest remainders)."""
    raw = np.asarray(share) / np.sum(share) * n
    size = np.floor(raw).astype(np.int64)
    size[np.argsort(size - raw, kind="stable")[: n - size.sum()]] += 1
    return size


def _strings(rng, n, length, alphabet):
    """(n,) random strings of `length` characters from `alphabet`."""
    chars = np.frombuffer(alphabet.encode(), np.uint8)
    codes = chars[np.floor(rng.random((n, length)) * len(alphabet)).astype(np.intp)]  # (n, length)
    return np.ascontiguousarray(codes).view(f"S{length}").ravel().astype(str)


def _asins(rng, n):
    """ASIN-like item ids: about a third ISBN-like ('0' + 9 digits: leading zeros), the rest 'B00' + 7 chars."""
    isbn = np.char.add("0", _strings(rng, n, 9, ALNUM[:10]))
    b00 = np.char.add("B00", _strings(rng, n, 7, ALNUM))
    return np.where(rng.random(n) < 0.35, isbn, b00)


def _unique_ids(rng, n, make):
    """n distinct ids from `make(m)` (duplicates dropped, draw order kept), as an object array."""
    ids = make(n + n // 100 + 10)
    _, first = np.unique(ids, return_index=True)
    keep = np.sort(first)
    if len(keep) < n:
        raise RuntimeError("id space too small")  # never hit at these lengths
    return ids[keep[:n]].astype(object)


def reference_scores(data, user_groups: pd.DataFrame, item_kinds: pd.DataFrame) -> dict:
    """Sampled test metrics of three scorers that learn nothing, per domain: reference points for models.

    - popularity: the candidate's number of train targets;
    - bigram: train count of (last history item -> candidate), popularity breaking ties;
    - group oracle: 1 if the candidate's kind is the user's TRUE group (ground truth), popularity breaking ties.
    `data`: a prepared `CrossDomainData`; the two tables: user_groups.csv and item_kinds.csv (ids as strings).
    Returns {scorer: {domain: {"auc", "gauc", "mrr", "ndcg@10"}}}.
    """
    out = {"popularity": {}, "bigram": {}, "group oracle": {}}
    for d in DOMAINS:
        dd = data.domains[d]
        train, test = dd.train, dd.test
        pop = np.bincount(train.target, minlength=dd.n_items)[test.cand] / len(train.target)  # (N, C) in [0, 1)
        pairs = pd.Series(train.hist[:, -1] * dd.n_items + train.target).value_counts()
        bigram = pairs.reindex((test.hist[:, -1:] * dd.n_items + test.cand).ravel()).fillna(0).to_numpy()
        truth_u, truth_i = user_groups[user_groups["domain"] == d], item_kinds[item_kinds["domain"] == d]
        group = truth_u.set_index("user")["group"].reindex(dd.users[test.user]).to_numpy()  # (N,)
        kind = truth_i.set_index("item")["kind"].reindex(dd.items[test.cand].ravel()).to_numpy()  # (N * C,)
        for name, score in (("popularity", pop), ("bigram", bigram.reshape(pop.shape) + pop),
                            ("group oracle", (kind.reshape(pop.shape) == group[:, None]) + pop)):
            out[name][d] = metrics.sampled_metrics(score, test.user)
    return out


def reference_table(scores: dict) -> str:
    """`reference_scores` as a Markdown table: one row per scorer, AUC and NDCG@10 per domain."""
    head = "| scorer | " + " | ".join(f"{m} {d}" for d in DOMAINS for m in ("AUC", "NDCG@10")) + " |"
    lines = [head, "|---|" + "---:|" * 2 * len(DOMAINS)]
    for name, by_domain in scores.items():
        cells = [f"{by_domain[d][m]:.3f}" for d in DOMAINS for m in ("auc", "ndcg@10")]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def tables(folder="data/sample", kcore: int = 10) -> list[str]:
    """The datasheet's tables, computed from the files in `folder` (as written by the default `--premise both`):
    Table-1 statistics of the sample and of the control (`kcore`-core, time split), and `reference_scores`."""
    folder = Path(folder)
    a, b, b_control = (folder / FILES[0], folder / FILES[1], folder / FILES[1].replace(".csv", "_control.csv"))
    truth = [pd.read_csv(folder / f, dtype={"user": str, "item": str}) for f in ("user_groups.csv", "item_kinds.csv")]
    return [mdata.markdown_table(mdata.describe(a, b, kcore=kcore)),
            mdata.markdown_table(mdata.describe(a, b_control, kcore=kcore)),
            reference_table(reference_scores(mdata.prepare(a, b, kcore=kcore), *truth))]


def main(argv=None) -> None:
    p = argparse.ArgumentParser(prog="python -m mini_man.sample", description=__doc__.splitlines()[0])
    p.add_argument("--setting", choices=tuple(SETTINGS), default="sample",
                   help="sample (default): the committed data/sample/; sparse: B with mostly new users and rare "
                        "items (train on it with --kcore 2), see the datasheet; toy: notebook 10's toy (--kcore 2)")
    p.add_argument("--out", help="output folder (default: data/SETTING; with --premise on or off, or another "
                                 "seed than 0: data/SETTING_premise_on|off_seedN, so that the committed data/sample/ "
                                 "is only ever rewritten with itself)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--premise", choices=("both", "on", "off"), default="both",
                   help="both (default, the committed layout): the sample plus the control's B files "
                        "(*_control.csv; domain A is shared); on / off: one complete set of files")
    p.add_argument("--tables", action="store_true", help="then print the datasheet's tables (with --premise both)")
    args = p.parse_args(argv)
    if args.tables and args.premise != "both":
        p.error("--tables reads the sample and its control side by side: use it with --premise both")
    suffix = ("" if args.premise == "both" else f"_premise_{args.premise}") + (f"_seed{args.seed}" if args.seed else "")
    out, setting = args.out or f"data/{args.setting}{suffix}", SETTINGS[args.setting]
    paths = []
    if args.premise in ("both", "on"):
        paths += generate(seed=args.seed, premise=True, **setting).write(out)
    if args.premise in ("both", "off"):
        both = args.premise == "both"
        control = generate(seed=args.seed, premise=False, **setting)
        paths += control.write(out, suffix="_control" if both else "", with_a=not both)
    print(f"wrote {', '.join(str(q) for q in paths)}")
    print(f"train on it: python -m mini_man.train --domain-a {paths[0]} --domain-b {paths[1]}"
          + (f" --kcore {KCORE[args.setting]}" if KCORE[args.setting] != 10 else ""))
    if args.tables:
        heads = ("Statistics, premise on:", "Statistics, the control (premise off; domain A is the same):",
                 "Reference scorers, premise on:")
        print("\n\n".join(f"{head}\n\n{table}" for head, table in zip(heads, tables(out, KCORE[args.setting]))))


if __name__ == "__main__":
    main()
