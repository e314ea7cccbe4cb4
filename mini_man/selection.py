"""Choosing a training setting on validation (`--lr-grid`, `--weight-decay-grid`; docs/results.md): the one rule
that the trainer (`train.train_and_test`) and the grid over committed runs (`compare.grid`) both apply."""
import math


def choose(scores: dict, domains) -> dict:
    """{domain: key}: for each of `domains`, the key of `scores` ({setting: {domain: best validation score}}) with the
    highest score, the first on a tie; a None or NaN score ranks below every number. A domain that no setting has a
    score for (none trained it) is left out."""
    chosen = {}
    for d in domains:
        tried = [(key, s[d]) for key, s in scores.items() if d in s]
        if tried:
            chosen[d] = max(tried, key=lambda t: -math.inf if t[1] is None or math.isnan(t[1]) else t[1])[0]
    return chosen
