"""Checks: every column of a raw rating table (`formats.read`) against what a real file can hold.

A value that cannot be right is reported with its count and one example (file, line, the row's fields), then
either refused (`DataError`) or handled in the documented way below, with a `DataWarning`; never used in silence.

| column | refused | handled |
|---|---|---|
| any | no rows (a header only); empty field (a short row) | - |
| user, item | - | stripped of spaces around them (`A1, B2` is `A1`, `B2`); kept as strings |
| user, item (Amazon formats) | user ids that look like Amazon item ids (ASIN/ISBN-10) while item ids do not, with an ASIN among the users or Amazon user ids among the items: swapped columns | - |
| rating | not a number; Amazon formats: outside 1-5 stars (`csv`: any number) | every rating is an implicit positive (paper A.4) |
| timestamp | not a number (a date written as text: said so, with its conversion), negative, not whole, >= 1e14 (microseconds?), a mix of seconds and milliseconds | milliseconds (all >= 1e11) -> seconds (floored) |
The unit rule: Amazon's reviews start in 1996 (~8.3e8 s, ~8.3e11 ms); 1e11 s is the year 5138, 1e11 ms is 1973.
"""
import warnings

import numpy as np
import pandas as pd

from mini_man.formats import AMAZON_ITEM, AMAZON_USER, ASIN, HEADERLESS, DataError, DataWarning, Format

TO_SECONDS = "(pd.to_datetime(column) - pd.Timestamp('1970-01-01')) // pd.Timedelta('1s')"  # any datetime resolution
DATES_HINT = ("; it is a date: timestamps are Unix time (seconds or milliseconds): convert the column first, e.g. "
              f"with pandas, {TO_SECONDS} gives seconds")
SECONDS_BELOW = 1e11  # a timestamp >= this is milliseconds
MILLISECONDS_BELOW = 1e14  # a timestamp >= this is neither seconds nor milliseconds
ID_SAMPLE = 10_000  # rows whose ids are matched against the Amazon item pattern
STARS_HINT = ("; format {name} holds Amazon's 1-5 stars: for ratings on another scale (0.5 steps, 0-10, ...) use "
              "--format csv (your own user,item,rating,timestamp file: any number), or check the column order")


def check(raw: pd.DataFrame, path, fmt: Format) -> pd.DataFrame:
    """Columns user, item (str), rating (float64, NaN where the format has none), timestamp (int64 seconds, or
    the file position where the format has no time), in file order. Raises `DataError` for a value that cannot be
    right; warns (`DataWarning`) where a value is converted."""
    if raw.empty:
        raise DataError(f"{path}: no rating rows (a header only?); expected {fmt.layout}")

    def refuse(bad: np.ndarray, what: str, hint: str = ""):
        row = raw.iloc[int(np.argmax(bad))]
        fields = ", ".join(f"{c} {'' if pd.isna(row[c]) else str(row[c])!r}" for c in ("user", "item", "rating",
                                                                                          "timestamp"))
        raise DataError(f"{path}: {int(bad.sum()):,} row(s) with {what}, e.g. line {row['line']}: {fields}{hint}")

    rating = pd.to_numeric(raw["rating"], errors="coerce").to_numpy(np.float64)
    ts = pd.to_numeric(raw["timestamp"], errors="coerce").to_numpy(np.float64)
    if fmt.name in HEADERLESS and np.isnan(rating[0]) and np.isnan(ts[0]):
        first = ",".join(str(raw.iloc[0][c]) for c in ("user", "item", "rating", "timestamp"))
        raise DataError(f"{path}: line 1 looks like a header ({first!r}); {fmt.name} files have no header row: "
                        "remove it")
    user, item = (_ids(raw[c]) for c in ("user", "item"))
    empty = (user == "").to_numpy(bool) | (item == "").to_numpy(bool) | _blank(raw["rating"]) | _blank(raw["timestamp"])
    if empty.any():
        refuse(empty, "an empty field (a short row?)")
    if fmt.amazon:
        _check_not_swapped(user, item, path, fmt, refuse)
    if fmt.name != "sasrec" and not (fmt.name == "recbole" and raw["rating"].isna().all()):
        if not np.isfinite(rating).all():
            refuse(~np.isfinite(rating), "a rating that is not a number")
        if fmt.amazon and ((rating < 1) | (rating > 5)).any():
            stars = (rating < 1) | (rating > 5)
            refuse(stars, "a rating outside Amazon's 1-5 stars", STARS_HINT.format(name=fmt.name))
    if fmt.time_unit is not None:
        ts = _seconds(ts, raw["timestamp"], fmt, path, refuse)
    return pd.DataFrame({"user": user, "item": item, "rating": rating, "timestamp": ts.astype(np.int64)})


def _ids(col: pd.Series) -> pd.Series:
    """Ids as strings without spaces around them; a missing JSON field becomes "" (refused as empty)."""
    if col.dtype == object or col.isna().any():
        col = col.where(col.notna(), "").astype(str)
    return col.str.strip()


def _blank(col: pd.Series) -> np.ndarray:
    """(n,) bool: the field is an empty string (a numeric column has none)."""
    return np.zeros(len(col), bool) if pd.api.types.is_numeric_dtype(col) else col.eq("").to_numpy(bool)


def _check_not_swapped(user, item, path, fmt, refuse) -> None:
    """Refuse Amazon data whose user column holds item ids (ASIN/ISBN-10) and whose item column does not, when
    there is evidence beyond digits: an ASIN among the users, or Amazon user ids among the items (a numeric user
    id looks like an ISBN-10)."""
    u = user.iloc[:ID_SAMPLE].str.fullmatch(AMAZON_ITEM.pattern).to_numpy(bool)
    i = item.iloc[:ID_SAMPLE].str.fullmatch(AMAZON_ITEM.pattern).to_numpy(bool)
    evidence = (user.iloc[:ID_SAMPLE].str.fullmatch(ASIN.pattern).any()
                or item.iloc[:ID_SAMPLE].str.fullmatch(AMAZON_USER.pattern).mean() > 0.5)
    if u.mean() > 0.5 and i.mean() < 0.5 and evidence:
        other = {"amazon2014": "amazon2018", "amazon2018": "amazon2014"}.get(fmt.name)
        hint = f"; use format {other}" if other else ""
        refuse(np.r_[u, np.zeros(len(user) - len(u), bool)],
               f"a user id that looks like an Amazon item id (ASIN/ISBN-10) while the item ids do not (of the first "
               f"{len(u):,} rows): user and item columns are swapped for format {fmt.name}", hint)


def _seconds(ts: np.ndarray, texts: pd.Series, fmt: Format, path, refuse) -> np.ndarray:
    """Timestamps as whole seconds: checked, and converted from milliseconds when every value is in ms. `texts`:
    the column as read, to name a date written as text (read as not a number) in the error."""
    bad = ~np.isfinite(ts)
    if bad.any() and not pd.isna(pd.to_datetime(texts[bad].iloc[0], errors="coerce", format="ISO8601")):
        refuse(bad, "a timestamp that is not a number", DATES_HINT)
    checks = [(bad, "a timestamp that is not a number"),
              (ts < 0, "a negative timestamp"),
              (ts != np.floor(ts), "a timestamp that is not a whole number of seconds or milliseconds"),
              (ts >= MILLISECONDS_BELOW, f"a timestamp >= {MILLISECONDS_BELOW:.0e}, neither seconds nor "
                                         "milliseconds (microseconds?)")]
    for bad, what in checks:
        if bad.any():
            refuse(bad, what)
    ms = ts >= SECONDS_BELOW
    if ms.any() and not ms.all():
        minority = ms if ms.sum() <= (~ms).sum() else ~ms
        refuse(minority, f"a timestamp in {'milliseconds' if minority is ms else 'seconds'} in a file of mostly "
                         f"{'seconds' if minority is ms else 'milliseconds'} (>= {SECONDS_BELOW:.0e} is ms)")
    unit = "ms" if ms.all() else "s"
    if unit != fmt.time_unit:
        warnings.warn(f"{path}: format {fmt.name} has timestamps in {'seconds' if fmt.time_unit == 's' else 'ms'}, "
                      f"but all {len(ts):,} are {'>=' if unit == 'ms' else '<'} {SECONDS_BELOW:.0e}: read as "
                      f"{'milliseconds' if unit == 'ms' else 'seconds'}", DataWarning, stacklevel=3)
    # Milliseconds are floored to seconds: the split windows count days; ties within a second keep file order.
    return ts // 1000 if unit == "ms" else ts
