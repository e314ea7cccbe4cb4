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
Any of them plain or gzipped; gzip is recognised by its magic bytes, not by the file name.

`resolve(path, "auto")` decides the format from the content (gzip magic, the first character, a header, the id
patterns) and raises `DataError` asking for an explicit format when two readings are possible. `read` parses with
pandas and does not check values; `mini_man.checks` does.
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
# ids (reviewerID A..., 2023 user_id AG...) are longer and never match.
AMAZON_ITEM = re.compile(r"B[0-9A-Z]{9}|[0-9]{9}[0-9X]")
CHUNK = 200_000  # JSON lines per pandas chunk


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
    amazon: bool  # item ids are ASINs/ISBN-10s, user ids are not (used to catch swapped columns)


FORMATS = {f.name: f for f in (
    Format("amazon2014", "CSV, no header: user,item,rating,timestamp (s)", "s", True),
    Format("amazon2018", "CSV, no header: item,user,rating,timestamp (s)", "s", True),
    Format("amazon2018-json", "JSON lines: reviewerID, asin, overall, unixReviewTime (s)", "s", True),
    Format("amazon2023", "CSV, header user_id,parent_asin,rating,timestamp (ms)", "ms", True),
    Format("amazon2023-jsonl", "JSON lines: user_id, parent_asin (or asin), rating, timestamp (ms)", "ms", True),
    Format("recbole", "RecBole .inter: tab-separated, header user_id:token item_id:token ... timestamp:float",
           "s", False),
    Format("sasrec", "text: user item per line, in order (no timestamps: leave-one-out only)", None, False),
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


def looks_amazon_item(values) -> float:
    """Share of `values` (strings) that look like Amazon item ids (ASIN or ISBN-10)."""
    values = [v.strip().strip('"') for v in values]
    return float(np.mean([bool(AMAZON_ITEM.fullmatch(v)) for v in values])) if values else 0.0


def resolve(path, format: str = "auto") -> Format:
    """The `Format` of the file: the named one, or with "auto" the one its content shows. Raises `DataError` for a
    missing or empty file, an unknown name, or content that fits no format or two formats."""
    path = Path(path)
    if format not in NAMES:
        raise DataError(f"unknown format {format!r}; choose from {', '.join(NAMES)}")
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    if format != "auto":
        return FORMATS[format]
    lines = head(path)
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
    if "," not in first:
        if all(len(line.split()) == 2 for line in lines):
            return FORMATS["sasrec"]
        raise DataError(f"{path}: line 1 has no comma and is not 'user item' ({first[:80]!r}){ask}")
    rows = [line.split(",") for line in lines[1:] if line.count(",") == 3]
    if not rows:  # one line, a header, or not 4 columns: the amazon2014 reader says what is wrong
        return FORMATS["amazon2014"]
    col0, col1 = (looks_amazon_item([r[k] for r in rows]) > 0.9 for k in (0, 1))
    if col0 and col1:
        raise DataError(f"{path}: both column 1 and column 2 look like Amazon item ids, so this may be amazon2014 "
                        f"(user,item,...) or amazon2018 (item,user,...){ask}")
    # Neither column looks like Amazon ids: the generic layout user,item,rating,timestamp (documented).
    return FORMATS["amazon2018" if col0 else "amazon2014"]


def read(path, fmt: Format) -> pd.DataFrame:
    """Parse the file as `fmt` with pandas: columns user, item, rating, timestamp (raw values; rating NaN and
    timestamp = file position where the format has none) and line (the row's 1-based line, "record" for JSON).
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
        raise DataError(f"{path}: wrong number of columns ({detail}); format {fmt.name}: {fmt.layout}") from None
    except UnicodeDecodeError:
        raise DataError(f"{path}: not UTF-8 text (format {fmt.name}: {fmt.layout})") from None
    except (OSError, EOFError) as e:  # a damaged gzip stream
        raise DataError(f"{path}: cannot read the file ({e})") from None


def _table(path: Path, fmt: Format) -> pd.DataFrame:
    """The CSV and text formats: one pandas read, blank lines kept (so row k is line k + header lines) then dropped."""
    kw = dict(na_filter=False, skip_blank_lines=False, low_memory=False, compression=compression(path))
    if fmt.name in ("amazon2014", "amazon2018"):
        df = pd.read_csv(path, header=None, dtype={0: str, 1: str}, **kw)
        if df.shape[1] != 4:
            raise DataError(f"{path}: {df.shape[1]} columns, expected 4: {fmt.layout}")
        ids = ["user", "item"] if fmt.name == "amazon2014" else ["item", "user"]
        df.columns = [*ids, "rating", "timestamp"]
        return _finish(df, first_line=1)
    if fmt.name == "sasrec":
        df = pd.read_csv(path, sep=r"\s+", header=None, dtype=str, **kw)
        if df.shape[1] != 2:
            raise DataError(f"{path}: {df.shape[1]} columns, expected 2: {fmt.layout}")
        df = _finish(df.set_axis(["user", "item"], axis=1), first_line=1)
        return df.assign(rating=np.nan, timestamp=np.arange(len(df), dtype=np.int64))  # no ratings; order = time
    if fmt.name == "amazon2023":
        df = pd.read_csv(path, dtype=str, **kw)
        names = {"user_id": "user", "parent_asin": "item", "rating": "rating", "timestamp": "timestamp"}
    else:  # recbole: the header is name:type
        df = pd.read_csv(path, sep="\t", dtype=str, quoting=3, **kw)  # 3 = csv.QUOTE_NONE: quotes are data
        df.columns = [c.split(":")[0] for c in df.columns]
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
    """The JSON-lines formats, read in chunks keeping only the four fields (review texts are large)."""
    fields = ({"user": ["reviewerID"], "item": ["asin"], "rating": ["overall"], "timestamp": ["unixReviewTime"]}
              if fmt.name == "amazon2018-json" else
              {"user": ["user_id"], "item": ["parent_asin", "asin"], "rating": ["rating"], "timestamp": ["timestamp"]})
    parts, start = [], 0
    try:
        reader = pd.read_json(path, lines=True, dtype=False, chunksize=CHUNK, compression=compression(path))
        for chunk in reader:
            cols = {}
            for name, keys in fields.items():
                key = next((k for k in keys if k in chunk.columns), None)
                if key is None:
                    raise DataError(f"{path}: records {start + 1}..{start + len(chunk)} have no field "
                                    f"{' or '.join(keys)} (format {fmt.name}: {fmt.layout})")
                cols[name] = chunk[key].to_numpy()
            parts.append(pd.DataFrame(cols).assign(line=np.arange(start, start + len(chunk)) + 1))
            start += len(chunk)
    except ValueError as e:
        if isinstance(e, DataError):
            raise
        raise DataError(f"{path}: not valid JSON lines after record {start} ({str(e).splitlines()[0]})") from None
    if not parts:
        raise DataError(f"{path}: empty file (expected {fmt.layout})")
    return pd.concat(parts, ignore_index=True)
