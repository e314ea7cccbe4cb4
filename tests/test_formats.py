"""Rating files of every release (`mini_man.formats`) and the column checks (`mini_man.checks`).

Every format fixture holds the SAME events as one Amazon-2014 file (written here, no downloads) and must give
identical prepared arrays and identical metrics. Each bad-input kind has a test asserting its value or message.
"""
import gzip
import json

import numpy as np
import pandas as pd
import pytest

from mini_man import checks, data, formats, metrics
from mini_man.data import DataError, DataWarning
from mini_man.sample import generate

DAY = 86400
PREP = dict(kcore=2, max_len=5, n_eval_neg=5)


@pytest.fixture(scope="module")
def events():
    """Two small generated domains (Amazon-like ids, day timestamps with same-day ties), rows in random order."""
    s = generate(users=(60, 50), items=(50, 40), length=(10, 8), min_len=4, seed=3)
    return {"A": s.a, "B": s.b}


def write(df: pd.DataFrame, fmt: str, path, gz: bool = False):
    """The events of `df` (user, item, rating, timestamp in s) in the layout of `fmt`; gzipped if `gz`."""
    u, i, r, t = (df[c].tolist() for c in ("user", "item", "rating", "timestamp"))
    if fmt == "amazon2014":
        lines = [f"{a},{b},{c:.1f},{d}" for a, b, c, d in zip(u, i, r, t)]
    elif fmt == "amazon2018":
        lines = [f"{b},{a},{c:.1f},{d}" for a, b, c, d in zip(u, i, r, t)]
    elif fmt == "amazon2018-json":
        lines = [json.dumps({"overall": c, "verified": True, "reviewerID": a, "asin": b, "reviewText": "fun, 5/5",
                             "unixReviewTime": d, "reviewTime": "07 22, 2014"}) for a, b, c, d in zip(u, i, r, t)]
    elif fmt == "amazon2023":  # milliseconds, with a sub-second part that flooring removes
        lines = ["user_id,parent_asin,rating,timestamp"] + [f"{a},{b},{c:.1f},{d * 1000 + 123}"
                                                           for a, b, c, d in zip(u, i, r, t)]
    elif fmt == "amazon2023-jsonl":  # `asin` is a variant; the item is `parent_asin`
        lines = [json.dumps({"rating": c, "title": "ok", "text": "a\tb", "asin": "BVARIANT00", "parent_asin": b,
                             "user_id": a, "timestamp": d * 1000 + 456, "helpful_vote": 0})
                 for a, b, c, d in zip(u, i, r, t)]
    elif fmt == "recbole":
        lines = ["user_id:token\titem_id:token\trating:float\ttimestamp:float"] + [
            f"{a}\t{b}\t{c}\t{float(d)}" for a, b, c, d in zip(u, i, r, t)]
    else:  # sasrec: each user's events in time order (stable: same-day ties keep the 2014 file order)
        order = df.assign(row=np.arange(len(df))).sort_values(["user", "timestamp", "row"])
        lines = [f"{a} {b}" for a, b in zip(order["user"], order["item"])]
    text = ("\n".join(lines) + "\n").encode()
    path.write_bytes(gzip.compress(text) if gz else text)
    return path


def pair(tmp_path, events, fmt, gz=False, name="x.csv"):
    return [write(events[d], fmt, tmp_path / f"{d}_{name}", gz) for d in "AB"]


def arrays(cd: data.CrossDomainData):
    """Every array of the prepared data, for an exact comparison."""
    out = {"n_global_items": np.array(cd.n_global_items)}
    for d, dd in cd.domains.items():
        out |= {f"{d}.items": dd.items.astype(str), f"{d}.users": dd.users.astype(str), f"{d}.global": dd.global_ids}
        for s in data.SPLITS:
            sp = getattr(dd, s)
            out |= {f"{d}.{s}.{k}": getattr(sp, k) for k in ("user", "hist", "target", "cand") if getattr(sp, k)
                    is not None}
    return out


def popularity_metrics(cd: data.CrossDomainData) -> dict:
    """Sampled test metrics of a fixed scorer (training-target counts) on the prepared candidates."""
    out = {}
    for d, dd in cd.domains.items():
        counts = np.bincount(dd.train.target, minlength=dd.n_items).astype(float)
        out[d] = metrics.sampled_metrics(counts[dd.test.cand], dd.test.user)
    return out


@pytest.mark.filterwarnings("error::mini_man.formats.DataWarning")
@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gzip"])
@pytest.mark.parametrize("fmt", [f for f in formats.FORMATS if f not in ("amazon2014", "csv")])
def test_every_format_gives_the_same_prepared_data_and_metrics_as_amazon2014(tmp_path, events, fmt, gz):
    """The fixture's ids are Amazon's, one id space: SASRec and RecBole files say so with shared_item_ids."""
    split = "loo" if fmt == "sasrec" else "time"
    reference = data.prepare(*pair(tmp_path, events, "amazon2014", name="ref.csv"), split=split, **PREP)
    paths = pair(tmp_path, events, fmt, gz)  # named .csv whatever the content: detection reads the bytes
    shared = dict(shared_item_ids=True) if formats.FORMATS[fmt].per_domain_items else {}
    for given in ("auto", fmt):
        cd = data.prepare(*paths, split=split, format=given, **shared, **PREP)
        assert [dd.format for dd in cd.domains.values()] == [fmt, fmt]
        got, want = arrays(cd), arrays(reference)
        assert got.keys() == want.keys()
        for k in want:
            assert got[k].dtype == want[k].dtype and np.array_equal(got[k], want[k]), (fmt, given, k)
        assert popularity_metrics(cd) == popularity_metrics(reference)


def test_the_csv_format_reads_an_amazon2014_file_as_amazon2014_does(tmp_path, events):
    """Same layout, other rules (any rating scale): on Amazon's stars the prepared data are identical."""
    paths = pair(tmp_path, events, "amazon2014")
    got, want = (arrays(data.prepare(*paths, format=f, **PREP)) for f in ("csv", "amazon2014"))
    assert got.keys() == want.keys() and all(np.array_equal(got[k], want[k]) for k in want)


def test_amazon2014_reference_is_read_as_amazon2014(tmp_path, events):
    paths = pair(tmp_path, events, "amazon2014", gz=True)
    assert formats.resolve(paths[0]).name == "amazon2014"
    assert data.describe(*paths, **PREP)["A"]["format"] == "amazon2014"


def test_a_plain_file_named_gz_is_read_as_plain(tmp_path, events):
    path = write(events["A"], "amazon2014", tmp_path / "a.csv.gz")
    assert data.load_ratings(path)["user"].tolist() == events["A"]["user"].tolist()


# --------------------------------------------------------------------------------------- auto: ambiguity
def test_auto_asks_for_the_format_when_both_id_columns_look_like_items(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("B000000001,0000000002,5.0,1400000000\nB000000003,B000000004,4.0,1400000000\n")
    with pytest.raises(DataError, match="amazon2014.*amazon2018.*--format") as err:
        formats.resolve(path)
    assert str(path) in str(err.value)
    assert formats.resolve(path, "amazon2018").name == "amazon2018"  # an explicit format is taken as given


@pytest.mark.parametrize("content, message", [
    ('{"foo": 1, "bar": 2}\n', "neither Amazon 2018"),
    ("{not json\n", "not valid JSON"),
    ("u1 i1 5\n", "neither 4 fields separated by ',', ';' or a tab nor 'user item'"),
    ("", "empty file"),
])
def test_auto_refuses_content_of_no_known_format(tmp_path, content, message):
    path = tmp_path / "x.txt"
    path.write_text(content)
    with pytest.raises(DataError, match=message):
        data.load_ratings(path)


@pytest.mark.parametrize("format", ["auto", "csv", "sasrec"])
def test_a_binary_or_utf16_file_is_refused_as_not_text_whatever_the_format(tmp_path, format):
    for name, content in (("bin.csv", b"\x7fELF\x02\x01\x01\x00\x00 a b\n1 2\n"),
                          ("utf16.csv", "u1,i1,5.0,1400000000\n".encode("utf-16"))):
        (tmp_path / name).write_bytes(content)
        with pytest.raises(DataError, match="not a text file .*NUL bytes"):
            formats.resolve(tmp_path / name, format)


def test_unknown_format_name_and_missing_file(tmp_path):
    with pytest.raises(DataError, match="unknown format 'amazon2020'"):
        formats.resolve(tmp_path, "amazon2020")
    with pytest.raises(DataError, match="file not found"):
        formats.resolve(tmp_path / "none.csv", "recbole")
    with pytest.raises(DataError, match="is a folder"):
        formats.resolve(tmp_path)


# --------------------------------------------------------------------------------------- swapped columns
@pytest.mark.parametrize("written, read, hint", [("amazon2018", "amazon2014", "amazon2018"),
                                                 ("amazon2014", "amazon2018", "amazon2014")])
def test_swapped_user_and_item_columns_are_refused(tmp_path, events, written, read, hint):
    path = write(events["A"], written, tmp_path / "a.csv")
    with pytest.raises(DataError, match=rf"{len(events['A']):,} row\(s\) .*swapped .*line 1: .*use format {hint}"):
        data.load_ratings(path, read)


# --------------------------------------------------------------------------------------- timestamps
def test_milliseconds_in_a_seconds_format_are_converted_with_a_warning(tmp_path, events):
    """The 2023 rating file with its header removed: read as amazon2014, ms -> s, same data."""
    ref = data.load_ratings(write(events["A"], "amazon2014", tmp_path / "ref.csv"))
    path = write(events["A"].assign(timestamp=events["A"]["timestamp"] * 1000 + 999), "amazon2014", tmp_path / "a.csv")
    with pytest.warns(DataWarning, match="read as milliseconds"):
        got = data.load_ratings(path)
    pd.testing.assert_frame_equal(got, ref)


def test_seconds_in_a_milliseconds_format_are_read_as_seconds_with_a_warning(tmp_path, events):
    path = tmp_path / "a.csv"
    path.write_text("user_id,parent_asin,rating,timestamp\nAG1,B000000001,5.0,1400000000\n")
    with pytest.warns(DataWarning, match="format amazon2023 has timestamps in ms.*read as seconds"):
        assert data.load_ratings(path)["timestamp"].tolist() == [1400000000]


BAD_STAMPS = [
    ([1400000000, 1400000000000, 1400000000], r"1 row\(s\) with a timestamp in milliseconds .*line 2"),
    ([1400000000000, 1400000000, 1400000000000], r"1 row\(s\) with a timestamp in seconds .*line 2"),
    ([1400000000, -86400, -1], r"2 row\(s\) with a negative timestamp, e\.g\. line 2"),
    ([1400000000, 1400000000.5, 1400000000], r"1 row\(s\) with a timestamp that is not a whole number.*line 2"),
    ([1400000000, 1400000000000000, 1400000000], r"1 row\(s\) with a timestamp >= 1e\+14.*microseconds"),
    ([1400000000, "2014-07-22", ""], r"1 row\(s\) with an empty field.*line 3"),  # the empty field first
    ([1400000000, "2014-07-22", 1400000000], r"1 row\(s\) with a timestamp that is not a number.*line 2.*it is a "
                                             r"date: timestamps are Unix time .*pd\.to_datetime"),
    ([1400000000, "soon", 1400000000], r"1 row\(s\) with a timestamp that is not a number, e\.g\. line 2: user "
                                       r"'AX1', item 'B000000001', rating '5\.0', timestamp 'soon'$"),  # no date hint
]


def test_the_conversion_the_date_hint_shows_gives_unix_seconds():
    for column, seconds in ((pd.Series(["2014-07-22", "2014-07-23"]), [1405987200, 1406073600]),
                            (pd.Series(["2014-07-22 00:00:01"]), [1405987201])):
        assert eval(checks.TO_SECONDS, {"pd": pd, "column": column}).tolist() == seconds


@pytest.mark.parametrize("stamps, message", BAD_STAMPS)
def test_bad_timestamps_are_refused_with_count_and_line(tmp_path, stamps, message):
    path = tmp_path / "a.csv"
    path.write_text("".join(f"AX{k},B00000000{k},5.0,{t}\n" for k, t in enumerate(stamps)))
    with pytest.raises(DataError, match=message) as err:
        data.load_ratings(path)
    assert str(err.value).startswith(str(path)) and "\n" not in str(err.value)


def test_line_numbers_count_blank_lines_and_the_header(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("user_id,parent_asin,rating,timestamp\nAG1,B000000001,5.0,1400000000000\n\n"
                    "AG2,B000000002,five,1400000000000\n")
    with pytest.raises(DataError, match=r"rating that is not a number, e\.g\. line 4: user 'AG2'"):
        data.load_ratings(path)


# --------------------------------------------------------------------------------------- ratings and ids
@pytest.mark.parametrize("rating, message", [("0.0", "outside Amazon's 1-5 stars"), ("1400000000", "outside"),
                                             ("nan", "not a number"), ("", "an empty field")])
def test_bad_amazon_ratings_are_refused(tmp_path, rating, message):
    path = tmp_path / "a.csv"
    path.write_text(f"AX1,B000000001,5.0,86400\nAX2,B000000002,{rating},86400\n")
    with pytest.raises(DataError, match=rf"1 row\(s\) with .*{message}.*line 2"):
        data.load_ratings(path)


def test_recbole_ratings_are_not_stars_and_may_be_absent(tmp_path):
    path = tmp_path / "a.inter"
    path.write_text("user_id:token\titem_id:token\trating:float\ttimestamp:float\n1\t7\t0\t86400\n2\t7\t-1\t86400\n")
    assert data.load_ratings(path)["rating"].tolist() == [0.0, -1.0]
    path.write_text("user_id:token\titem_id:token\ttimestamp:float\n1\t7\t86400\n")
    assert data.load_ratings(path)["item"].tolist() == ["7"]


def test_recbole_without_timestamp_field_is_refused(tmp_path):
    path = tmp_path / "a.inter"
    path.write_text("user_id:token\titem_id:token\trating:float\n1\t7\t5\n")
    with pytest.raises(DataError, match="header has no timestamp"):
        data.load_ratings(path)


@pytest.mark.parametrize("record, message", [
    ({"asin": "B000000002", "overall": 4.0, "unixReviewTime": 86400}, r"empty field.*line 2: user ''"),
    ({"reviewerID": "AX2", "asin": "B000000002", "overall": None, "unixReviewTime": 86400}, "rating that is not"),
])
def test_json_records_missing_a_value_are_refused_with_the_record(tmp_path, record, message):
    path = tmp_path / "a.json"
    good = {"reviewerID": "AX1", "asin": "B000000001", "overall": 5.0, "unixReviewTime": 86400}
    path.write_text(json.dumps(good) + "\n" + json.dumps(record) + "\n")
    with pytest.raises(DataError, match=message):
        data.load_ratings(path)


def test_json_without_a_field_is_refused(tmp_path):
    path = tmp_path / "a.json"
    path.write_text(json.dumps({"reviewerID": "AX1", "asin": "B000000001", "unixReviewTime": 86400}) + "\n")
    with pytest.raises(DataError, match="the records of lines 1..1 have no field overall"):
        data.load_ratings(path)


def test_damaged_gzip_is_refused(tmp_path, events):
    path = write(events["A"], "amazon2014", tmp_path / "a.csv", gz=True)
    path.write_bytes(path.read_bytes()[:60])
    with pytest.raises(DataError, match="cannot read"):
        data.load_ratings(path)


# --------------------------------------------------------------------------------------- order-only files
def test_sasrec_files_refuse_a_time_split(tmp_path, events):
    paths = pair(tmp_path, events, "sasrec")
    with pytest.raises(DataError, match=r"format sasrec has no timestamps.*split='loo'"):
        data.prepare(*paths, **PREP)
    assert data.describe(*paths, split="loo", **PREP)["A"]["first_day"] == "n/a"


@pytest.mark.parametrize("content", ["u1 i1\n\nu1 i2\n\n", "u1,i1,5.0,1\n\nu1,i2,5.0,2\n\n",
                                     "user_id:token\titem_id:token\ttimestamp:float\nu1\ti1\t1\n\nu1\ti2\t2\n"])
def test_blank_lines_are_skipped(tmp_path, content):
    path = tmp_path / "x.txt"
    path.write_text(content)
    df = data.load_ratings(path)
    assert df["item"].tolist() == ["i1", "i2"] and df["timestamp"].tolist() in ([0, 1], [1, 2])
