"""Readers: the rating files people have on disk -> one raw table (user, item, rating, timestamp, line).

Each public release stores the same events differently (sources: the release pages linked in `data/README.md`):
- `amazon2014`: Amazon 2014 "ratings only" CSV (McAuley et al., SIGIR'15): no header, `user,item,rating,timestamp`,
  unix seconds. The paper's files (A.4; official `sequential_reviews.py`, notes §8.1).
- `amazon2018`: Amazon 2018 "ratings only" CSV (Ni et al., EMNLP'19): no header, `item,user,rating,timestamp`.
- `amazon2018-json`: Amazon 2018 reviews, JSON lines with `reviewerID`, `asin`, `overall`, `unixReviewTime` (s).
- `amazon2023`: Amazon Reviews 2023 rating CSV (Hou et al., 2024): header `user_id,parent_asin,rating,timestamp`,
  timestamps in MILLIseconds.
- `amazon2023-jsonl`: Amazon Reviews 2023 reviews, JSON lines with `user_id`, `parent_asin` (else `asin`), `rating`,
  `timestamp` (ms).
- `recbole`: RecBole atomic `.inter` file (Zhao et al., CIKM'21): tab-separated, typed header `name:type`, fields
  `user_id`, `item_id`, optional `rating`, `timestamp`.
- `sasrec`: SASRec's `user item` text (Kang & McAuley, ICDM'18): whitespace-separated, one event a line, each user's
  events in order; no ratings, no timestamps: only a leave-one-out split is possible.
- `csv`: one's own file: no header, `user,item,rating,timestamp` (s; ms are converted), ratings on any scale.
Any of them plain or gzipped; gzip is recognised by its magic bytes, not by the file name. The headerless 4-column
layouts (`amazon2014`, `amazon2018`, `csv`) may be separated by `,`, `;` or a tab; ids may be quoted or padded with
spaces (ids are stripped).

SASRec and RecBole files number their items in each file (1..n), so their item ids are per domain
(`Format.per_domain_items`); the Amazon releases use ASINs/ISBN-10s, one id space for every category.

`resolve(path, "auto")` decides the format from the content (gzip magic, the first character, a header, the id
patterns) and raises `DataError` asking for an explicit format when two readings are possible. Digit-only ids are
no evidence (an ISBN-10 and a numeric user id look alike); only ASINs (`B` + 9) and Amazon user ids (`A` + 9 or more)
are. `read` parses with pandas and does not check values; `mini_man.checks` does.
"""
import gzip
import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

GZIP_MAGIC = b"\x1f\x8b"
# Amazon item ids: an ASIN (B + 9 upper-case letters/digits) or an ISBN-10 (9 digits + a digit or X). Amazon user
# ids (reviewerID A..., 2023 user_id AG...) are longer and never match. Only an ASIN or a user id is evidence of an
# Amazon file: digit-only ids (ISBN-10s) look like anybody's numeric ids.
AMAZON_ITEM = re.compile(r"B[0-9A-Z]{9}|[0-9]{9}[0-9X]")
ASIN = re.compile(r"B[0-9A-Z]{9}")
AMAZON_USER = re.compile(r"A[0-9A-Z]{9,}")
EVIDENCE = 0.9  # share of a column's head values that must match a pattern to count as evidence
SEPARATORS = (",", ";", "\t")  # of the headerless 4-column layouts
HEADERLESS = ("amazon2014", "amazon2018", "csv")
CHUNK = 200_000  # JSON lines per chunk


class DataError(ValueError):
    """Bad input data. The one-line message names the file (or domain) and the problem."""


class DataWarning(UserWarning):
    """Input that is handled in a documented way (converted or dropped) but that the user should know about."""


@dataclass(frozen=True)
class Format:
    """One file layout. `time_unit` "s" | "ms" | None (no timestamps: the file order is the sequence order)."""

    name: str
    layout: str  # one line for messages and `--help`
    time_unit: str | None
    amazon: bool  # item ids are ASINs/ISBN-10s, user ids are not (used to catch swapped columns); 1-5 stars
    per_domain_items: bool = False  # item ids are numbered per file (SASRec, RecBole), not one id space


FORMATS = {f.name: f for f in (
    Format("amazon2014", "CSV, no header: user,item,rating,timestamp (s)", "s", True),
    Format("amazon2018", "CSV, no header: item,user,rating,timestamp (s)", "s", True),
    Format("amazon2018-json", "JSON lines: reviewerID, asin, overall, unixReviewTime (s)", "s", True),
    Format("amazon2023", "CSV, header user_id,parent_asin,rating,timestamp (ms)", "ms", True),
    Format("amazon2023-jsonl", "JSON lines: user_id, parent_asin (or asin), rating, timestamp (ms)", "ms", True),
    Format("recbole", "RecBole .inter: tab-separated, header user_id:token item_id:token ... timestamp:float",
           "s", False, True),
    Format("sasrec", "text: user item per line, in order (no timestamps: leave-one-out only)", None, False, True),
    Format("csv", "your own CSV (, or ; or tab), no header: user,item,rating,timestamp (s or ms), any rating scale",
           "s", False),
)}
NAMES = ("auto", *FORMATS)


def compression(path: Path) -> str | None:
    """"gzip" if the file starts with the gzip magic bytes, else None (whatever its name)."""
    with open(path, "rb") as f:
        return "gzip" if f.read(2) == GZIP_MAGIC else None


def head(path: Path, n_bytes: int = 1 << 16) -> list[str]:
    """The first complete non-blank lines of the (decompressed) file, BOM and line ends stripped."""
    opener = gzip.open if compression(path) else open
    try:
        with opener(path, "rb") as f:
            raw = f.read(n_bytes + 1)
    except (OSError, EOFError) as e:
        raise DataError(f"{path}: cannot read the gzip data ({e})") from None
    text = raw[:n_bytes].decode("utf-8", errors="replace").removeprefix("\ufeff")
    lines = text.splitlines()
    if len(raw) > n_bytes and len(lines) > 1:
        lines = lines[:-1]  # the last line may be cut
    return [line for line in lines if line.strip()]


def share(values, pattern: re.Pattern) -> float:
    """Share of `values` (strings; quotes and spaces around them ignored) that match `pattern` in full."""
    values = [v.strip().strip('"').strip() for v in values]
    return float(np.mean([bool(pattern.fullmatch(v)) for v in values])) if values else 0.0


def separator(lines: list[str]) -> str | None:
    """The separator of a headerless 4-column file: the one of `SEPARATORS` that occurs 3 times on line 1 (a comma
    anyway if line 1 has one: the reader then names the column count), else None."""
    first = lines[0] if lines else ""
    return next((sep for sep in SEPARATORS if first.count(sep) == 3), "," if "," in first else None)


def _headerless(path: Path, lines: list[str], sep: str) -> Format:
    """amazon2014 (user,item), amazon2018 (item,user) or csv (your own user,item) from the id columns' content.

    A column is evidence when >= 90% of its values are Amazon user ids (`AMAZON_USER`), or Amazon item ids
    (`AMAZON_ITEM`) with at least one ASIN among them. Digit-only ids are never evidence. amazon2014 fits when
    column 1 holds users or column 2 items; amazon2018 when column 1 holds items or column 2 users. Both: ask.
    Neither: csv. Line 1 is left out unless it is the only line (it may be a header, which the reader
    refuses).
    """
    rows = [line.split(sep) for line in lines[1 if len(lines) > 1 else 0:] if line.count(sep) == 3]
    if not rows:  # one line, a header, or not 4 columns: the csv reader says what is wrong
        return FORMATS["csv"]
    cols = [[r[k] for r in rows] for k in (0, 1)]
    users = [share(c, AMAZON_USER) >= EVIDENCE for c in cols]
    items = [share(c, AMAZON_ITEM) >= EVIDENCE and share(c, ASIN) > 0 for c in cols]
    fits = {"amazon2014": [f"column {k + 1} holds Amazon {what} ids" for k, what, yes in
                           ((0, "user", users[0]), (1, "item", items[1])) if yes],
            "amazon2018": [f"column {k + 1} holds Amazon {what} ids" for k, what, yes in
                           ((0, "item", items[0]), (1, "user", users[1])) if yes]}
    fits = {name: why for name, why in fits.items() if why}
    if len(fits) == 2:
        raise DataError(f"{path}: two formats fit: " + "; ".join(f"{n} ({', '.join(w)})" for n, w in fits.items())
                        + "; pass --format NAME (amazon2014, amazon2018 or csv; format=NAME in Python)")
    return FORMATS[next(iter(fits), "csv")]


def resolve(path, format: str = "auto") -> Format:
    """The `Format` of the file: the named one, or with "auto" the one its content shows. Raises `DataError` for a
    missing, empty or binary file, an unknown name, or content that fits no format or two formats."""
    path = Path(path)
    if format not in NAMES:
        raise DataError(f"unknown format {format!r}; choose from {', '.join(NAMES)}")
    if path.is_dir():
        raise DataError(f"{path} is a folder; give one ratings file")
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    lines = head(path)
    if any("\x00" in line for line in lines):  # text never holds NUL bytes; binary and UTF-16 files do
        raise DataError(f"{path}: not a text file (it holds NUL bytes); expected ratings as UTF-8 text (CSV, JSON "
                        f"lines, 'user item'), or such a file gzipped (a UTF-16 file: convert it to UTF-8 first)")
    if format != "auto":
        return FORMATS[format]
    if not lines:
        raise DataError(f"{path}: empty file (expected rating rows; formats: {', '.join(FORMATS)})")
    first = lines[0]
    ask = "; pass the format explicitly (--format NAME, or format=NAME in Python)"
    if first.lstrip().startswith("{"):
        try:
            keys = set(json.loads(first))
        except ValueError:
            raise DataError(f"{path}: line 1 starts with '{{' but is not valid JSON") from None
        if {"reviewerID", "asin"} <= keys:
            return FORMATS["amazon2018-json"]
        if "user_id" in keys and keys & {"parent_asin", "asin"}:
            return FORMATS["amazon2023-jsonl"]
        raise DataError(f"{path}: JSON lines with fields {sorted(keys)}: neither Amazon 2018 (reviewerID, asin, "
                        f"overall, unixReviewTime) nor Amazon 2023 (user_id, parent_asin, rating, timestamp)")
    if "\t" in first and all(re.fullmatch(r"\w+:\w+", f.strip()) for f in first.split("\t")):
        return FORMATS["recbole"]
    fields = [f.strip().strip('"').lower() for f in first.split(",")]
    if {"user_id", "parent_asin"} <= set(fields):
        return FORMATS["amazon2023"]
    sep = separator(lines)
    if sep is None:
        if all(len(line.split()) == 2 for line in lines):
            return FORMATS["sasrec"]
        raise DataError(f"{path}: line 1 is neither 4 fields separated by ',', ';' or a tab nor 'user item' "
                        f"({first[:80]!r}){ask}")
    return _headerless(path, lines, sep)


def read(path, fmt: Format) -> pd.DataFrame:
    """Parse the file as `fmt` with pandas: columns user, item, rating, timestamp (raw values; rating NaN and
    timestamp = file position where the format has none) and line (the row's 1-based line in the file).
    Blank lines are dropped. Raises `DataError` when the file does not parse as `fmt`."""
    path = Path(path)
    try:
        if fmt.name in ("amazon2018-json", "amazon2023-jsonl"):
            return _json_lines(path, fmt)
        return _table(path, fmt)
    except pd.errors.EmptyDataError:
        raise DataError(f"{path}: empty file (expected {fmt.layout})") from None
    except pd.errors.ParserError as e:
        detail = str(e).strip().splitlines()[-1].removeprefix("Error tokenizing data. C error: ")
        at = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", detail)
        if at is None:
            raise DataError(f"{path}: wrong number of columns ({detail}); format {fmt.name}: {fmt.layout}") from None
        expected, n, saw = map(int, at.groups())
        raise DataError(f"{path}: wrong number of columns: line {n} has {saw} fields where line 1 has {expected} "
                        f"({line_text(path, n)[:80]!r}): remove the stray separator, or fix the row; format "
                        f"{fmt.name}: {fmt.layout}") from None
    except UnicodeDecodeError:
        raise DataError(f"{path}: not UTF-8 text (format {fmt.name}: {fmt.layout})") from None
    except (OSError, EOFError) as e:  # a damaged gzip stream
        raise DataError(f"{path}: cannot read the file ({e})") from None


def line_text(path: Path, n: int) -> str:
    """Line n (1-based) of the (decompressed) file, line end stripped; "" past the end."""
    opener = gzip.open if compression(path) else open
    with opener(path, "rt", encoding="utf-8", errors="replace", newline="") as f:
        for k, line in enumerate(f, 1):
            if k == n:
                return line.rstrip("\r\n")
    return ""


def _table(path: Path, fmt: Format) -> pd.DataFrame:
    """The CSV and text formats: one pandas read, blank lines kept (so row k is line k + header lines) then dropped.
    Every line is split by pandas' C parser, which refuses a line with more fields than line 1 (a stray separator),
    so a row is never read shifted."""
    kw = dict(na_filter=False, skip_blank_lines=False, low_memory=False, compression=compression(path))
    if fmt.name in HEADERLESS:
        sep = separator(head(path)) or ","
        df = pd.read_csv(path, header=None, sep=sep, skipinitialspace=True, dtype={0: str, 1: str}, **kw)
        if df.shape[1] != 4:
            raise DataError(f"{path}: {df.shape[1]} columns, expected 4: {fmt.layout}")
        ids = ["item", "user"] if fmt.name == "amazon2018" else ["user", "item"]
        df.columns = [*ids, "rating", "timestamp"]
        return _finish(df, first_line=1)
    if fmt.name == "sasrec":
        df = pd.read_csv(path, sep=r"\s+", header=None, dtype=str, **kw)
        if df.shape[1] != 2:
            raise DataError(f"{path}: {df.shape[1]} columns, expected 2: {fmt.layout}")
        df = _finish(df.set_axis(["user", "item"], axis=1), first_line=1)
        return df.assign(rating=np.nan, timestamp=np.arange(len(df), dtype=np.int64))  # no ratings; order = time
    if fmt.name == "amazon2023":  # header=None: a data row with more fields than the header is an error, not shifted
        df = pd.read_csv(path, header=None, dtype=str, skipinitialspace=True, **kw)
        df = df.iloc[1:].set_axis([str(c).strip() for c in df.iloc[0]], axis=1).reset_index(drop=True)
        names = {"user_id": "user", "parent_asin": "item", "rating": "rating", "timestamp": "timestamp"}
    else:  # recbole: the header is name:type
        df = pd.read_csv(path, sep="\t", dtype=str, quoting=3, **kw)  # 3 = csv.QUOTE_NONE: quotes are data
        df.columns = [c.strip().split(":")[0] for c in df.columns]
        names = {"user_id": "user", "item_id": "item", "timestamp": "timestamp", "rating": "rating"}
        if "rating" not in df.columns:  # optional in RecBole: no ratings (NaN)
            names.pop("rating")
    missing = [c for c in names if c not in df.columns]
    if missing:
        raise DataError(f"{path}: the header has no {', '.join(missing)} (format {fmt.name}: {fmt.layout})")
    df = _finish(df.rename(columns=names)[list(names.values())], first_line=2)
    return df if "rating" in df.columns else df.assign(rating=np.nan)


def _finish(df: pd.DataFrame, first_line: int) -> pd.DataFrame:
    """Add the line numbers and drop blank lines (every field empty; a numeric column has no empty field)."""
    blank = np.ones(len(df), dtype=bool)
    for c in df.columns:  # each column only on the rows still blank (fast: usually none after the first)
        col = df[c]
        blank[blank] = False if pd.api.types.is_numeric_dtype(col) else col[blank].eq("").to_numpy(bool)
    df = df.assign(line=np.arange(len(df), dtype=np.int64) + first_line)
    return df[~blank].reset_index(drop=True) if blank.any() else df


def _json_lines(path: Path, fmt: Format) -> pd.DataFrame:
    """The JSON-lines formats, keeping only the four fields (review texts are large). Integers are read as their
    decimal strings (`parse_int=str`), so an integer id keeps every digit (2**63 + k too) and equals the same id
    written as a string; ratings and timestamps are converted by `checks`. `line` is the record's line.
    A field is looked up per chunk of `CHUNK` lines: a chunk where no record has it is refused."""
    fields = ({"user": ["reviewerID"], "item": ["asin"], "rating": ["overall"], "timestamp": ["unixReviewTime"]}
              if fmt.name == "amazon2018-json" else
              {"user": ["user_id"], "item": ["parent_asin", "asin"], "rating": ["rating"], "timestamp": ["timestamp"]})
    opener = gzip.open if compression(path) else open
    parts, records, lines, n = [], [], [], 0

    def flush():
        keys = set().union(*records)
        cols = {}
        for name, options in fields.items():
            key = next((k for k in options if k in keys), None)
            if key is None:
                raise DataError(f"{path}: the records of lines {lines[0]}..{lines[-1]} have no field "
                                f"{' or '.join(options)} (format {fmt.name}: {fmt.layout})")
            cols[name] = [r.get(key) for r in records]
        parts.append(pd.DataFrame(cols, dtype=object).assign(line=np.array(lines, dtype=np.int64)))
        records.clear()
        lines.clear()

    with opener(path, "rt", encoding="utf-8") as f:
        for n, text in enumerate(f, 1):
            if not text.strip():
                continue
            try:
                record = json.loads(text, parse_int=str)
            except ValueError as e:
                raise DataError(f"{path}: line {n} is not valid JSON ({e}); format {fmt.name}: {fmt.layout}") \
                    from None
            if not isinstance(record, dict):
                raise DataError(f"{path}: line {n} is not a JSON object ({text.strip()[:80]!r}); format "
                                f"{fmt.name}: {fmt.layout}")
            records.append(record)
            lines.append(n)
            if len(records) == CHUNK:
                flush()
    if records:
        flush()
    if not parts:
        raise DataError(f"{path}: empty file (expected {fmt.layout})")
    return pd.concat(parts, ignore_index=True)
