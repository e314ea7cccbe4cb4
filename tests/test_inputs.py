"""Unusual inputs as people have them on disk: numeric ids, ids numbered per file, padded or quoted fields, other
separators, integer JSON ids, header-only files, a stray separator, other rating scales, users with one item,
checkpoints loaded on other data, and output paths that cannot be written. Every file is written here.

Each test asserts the exact outcome: the values read, or the one-line error (exit code 2 on the command line).
"""
import hashlib
import json
import os
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

from mini_man import checkpoint, cli, data, formats
from mini_man.data import DataError

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data" / "sample"
DAY = 86400
T0 = 1_400_000_000  # 2014-05-13, seconds
LOO = dict(kcore=1, split="loo", max_len=3, n_eval_neg=1)


def events(users, items, per_user=4, step=DAY):
    """Rows (user, item, rating, timestamp): user k takes `per_user` items in turn from position k, `step` apart."""
    return [(u, items[(k + j) % len(items)], 5.0, T0 + (k * per_user + j) * step)
            for k, u in enumerate(users) for j in range(per_user)]


def write(path, rows, line="{},{},{},{}", end="\n", header=None):
    """`rows` in the layout `line` (one `{}` per field), each line ended by `end`; an optional header line."""
    text = "".join(f"{h}{end}" for h in ([header] if header else [])) + "".join(line.format(*r) + end for r in rows)
    path.write_bytes(text.encode())
    return path


def one_line(err: DataError | str) -> str:
    text = str(err)
    assert "\n" not in text and "Traceback" not in text, text
    return text


def run_data_cli(argv, capsys):
    """`python -m mini_man.data ARGV`: (exit code, stdout, stderr)."""
    try:
        code = data.main([str(a) for a in argv])
    except SystemExit as e:
        code = e.code
    out, err = capsys.readouterr()
    return code, out, err


def run_train_cli(argv, capsys):
    """`python -m mini_man.train ARGV`: (exit code, stdout, stderr); the thread count is restored."""
    threads = torch.get_num_threads()
    try:
        code = cli.main([str(a) for a in argv])
    except SystemExit as e:
        code = e.code
    finally:
        torch.set_num_threads(threads)
    out, err = capsys.readouterr()
    return code, out, err


# ------------------------------------------------------------------------------- the sample stays as it was
def prepared_digest(cd: data.CrossDomainData) -> str:
    """SHA-256 over every array and vocabulary of the prepared data (dtype, shape and values)."""
    h = hashlib.sha256()

    def add(name, a):
        a = np.asarray(a)
        h.update(name.encode())
        h.update(str(a.dtype if a.dtype != object else "object").encode())
        h.update(str(a.shape).encode())
        h.update("\x1f".join(map(str, a.ravel())).encode() if a.dtype == object else np.ascontiguousarray(a).tobytes())

    add("n_global_items", cd.n_global_items)
    add("max_len", cd.max_len)
    for d, dd in cd.domains.items():
        add(f"{d}.n_items", dd.n_items)
        add(f"{d}.items", dd.items)
        add(f"{d}.users", dd.users)
        add(f"{d}.global", dd.global_ids)
        add(f"{d}.format", np.array(dd.format, dtype=object))
        for s in data.SPLITS:
            sp = getattr(dd, s)
            for k in ("user", "hist", "target", "cand"):
                if getattr(sp, k) is not None:
                    add(f"{d}.{s}.{k}", getattr(sp, k))
    return h.hexdigest()


# Computed with this function on the code before the reading rules of this module (numeric ids, per-domain ids,
# separators, padding) were added: the sample must be read and prepared bit for bit as before.
SAMPLE_DIGESTS = [
    (("video_games.csv", "toys.csv"), {}, "b70672d7c0c5b08ee5644b2a83347971f753b2fce4f6345b75887c88b8cc4e4f"),
    (("video_games.csv", "toys.csv"), dict(split="loo", kcore=5, max_len=8),
     "3ded32c500d13045e058564674f988ca5949a904cd78a96d93a4aa0639bbecb9"),
    (("video_games.csv", "toys_control.csv"), {}, "f9358b931f3f879a2696e2b49b97ddfeeded97c64afe7f4d394535b976d504fa"),
]


@pytest.mark.parametrize("files, kw, digest", SAMPLE_DIGESTS, ids=["default", "loo", "control"])
def test_the_sample_is_prepared_bit_for_bit_as_before(files, kw, digest):
    cd = data.prepare(*(SAMPLE / f for f in files), **kw)
    assert [dd.format for dd in cd.domains.values()] == ["amazon2014", "amazon2014"]
    assert prepared_digest(cd) == digest


@pytest.mark.parametrize("name", ["video_games.csv", "toys.csv", "toys_control.csv"])
def test_the_sample_files_are_detected_as_amazon2014(name):
    assert formats.resolve(SAMPLE / name).name == "amazon2014"


def test_the_digest_sees_a_changed_value():
    cd = data.prepare(SAMPLE / "video_games.csv", SAMPLE / "toys.csv")
    cd.domains["B"].test.cand[0, 1] += 1
    assert prepared_digest(cd) != SAMPLE_DIGESTS[0][2]


# ------------------------------------------------------------------------------- numeric ids are no evidence
USERS = [f"u{k}" for k in range(6)]
ITEMS = [f"i{k}" for k in range(5)]  # 5 > 4 per user: every user has an unseen item, a negative for LOO


@pytest.mark.parametrize("user_ids", [
    [f"{4_000_000_000 + k:010d}" for k in range(6)],  # 10 digits: the shape of an ISBN-10
    [f"{k:08d}" for k in range(6)],  # 8 digits, leading zeros
    [f"{k:09d}X" for k in range(6)],  # 9 digits and an X: an ISBN-10 with its check letter
    [f"0{k:08d}X" for k in range(6)],
    [f"{10**10 + k}" for k in range(6)],  # 11 digits
    [f"{10**11 + k}" for k in range(6)],  # 12 digits
], ids=["10-digits", "8-digits-leading-0", "trailing-X", "leading-0-trailing-X", "11-digits", "12-digits"])
@pytest.mark.parametrize("item_ids", [ITEMS, ["7", "8", "9", "10", "11"],
                                      ["0123456789", "0234567891", "1111111111", "2222222222", "0333333333"]],
                         ids=["string-items", "integer-items", "isbn-like-items"])
def test_numeric_user_ids_are_read_as_your_own_csv_users_first(tmp_path, user_ids, item_ids):
    """6 users and 5 items: read as users, never swapped (a digit-only id says nothing about the format)."""
    path = write(tmp_path / "a.csv", events(user_ids, item_ids))
    assert formats.resolve(path).name == "csv"
    df = data.load_ratings(path)
    assert df["user"].tolist() == [r[0] for r in events(user_ids, item_ids)]
    assert df["item"].tolist() == [r[1] for r in events(user_ids, item_ids)]
    stats = data.describe(path, path, **LOO)["A"]
    assert (stats["users"], stats["items"], stats["format"]) == (6, 5, "csv")


def test_numeric_user_ids_with_asin_items_are_amazon2014(tmp_path):
    asins = [f"B00000000{k}" for k in range(5)]
    path = write(tmp_path / "a.csv", events([f"{4_000_000_000 + k}" for k in range(6)], asins))
    assert formats.resolve(path).name == "amazon2014"
    assert data.load_ratings(path)["item"].unique().tolist() == asins


def test_digit_only_items_with_amazon_users_second_are_amazon2018(tmp_path):
    """An Amazon 2018 Books file: ISBN-10 items first, reviewer ids second."""
    users = [f"A{k:02d}XYZ0123456" for k in range(6)]
    isbns = ["0123456789", "0234567891", "111111111X", "2222222222"]
    path = write(tmp_path / "a.csv", [(i, u, r, t) for u, i, r, t in events(users, isbns)])
    assert formats.resolve(path).name == "amazon2018"
    assert data.load_ratings(path)["user"].unique().tolist() == users


def test_a_tie_between_two_formats_asks_for_format_naming_both(tmp_path):
    """ASINs in both id columns: amazon2014 (items second) and amazon2018 (items first) both fit."""
    path = write(tmp_path / "a.csv", [(f"B000000{k}X", f"B000000{k}Y", 5.0, T0) for k in range(10, 14)])
    with pytest.raises(DataError) as err:
        formats.resolve(path)
    assert one_line(err.value) == (
        f"{path}: two formats fit: amazon2014 (column 2 holds Amazon item ids); amazon2018 (column 1 holds Amazon "
        "item ids); pass --format NAME (amazon2014, amazon2018 or csv; format=NAME in Python)")
    assert data.load_ratings(path, "csv")["user"].tolist() == [f"B000000{k}X" for k in range(10, 14)]


def test_the_tie_is_one_line_and_exit_2_on_the_command_line(tmp_path, capsys):
    path = write(tmp_path / "a.csv", [(f"B000000{k}X", f"B000000{k}Y", 5.0, T0) for k in range(10, 14)])
    code, _, err = run_data_cli([path, path], capsys)
    assert code == 2 and err.count("\n") == 1 and "two formats fit" in err and "--format NAME" in err


# ------------------------------------------------------------------------------- item ids per domain
def sasrec_pair(tmp_path, n_a=6, n_b=5):
    """Two SASRec files numbering their users and items 1..n each (A: n_a of each, B: n_b), the same integers in
    both."""
    ids = [str(k) for k in range(1, max(n_a, n_b) + 1)]
    a = write(tmp_path / "a.txt", [(u, i) for u, i, _, _ in events(ids[:n_a], ids[:n_a])], line="{} {}")
    b = write(tmp_path / "b.txt", [(u, i) for u, i, _, _ in events(ids[:n_b], ids[:n_b])], line="{} {}")
    return a, b


def recbole_pair(tmp_path):
    header = "user_id:token\titem_id:token\trating:float\ttimestamp:float"
    a = write(tmp_path / "a.inter", events([str(k) for k in range(1, 7)], "123456"), line="{}\t{}\t{}\t{}",
              header=header)
    b = write(tmp_path / "b.inter", events([str(k) for k in range(1, 6)], "12345"), line="{}\t{}\t{}\t{}",
              header=header)
    return a, b


@pytest.mark.parametrize("make", [sasrec_pair, recbole_pair], ids=["sasrec", "recbole"])
def test_sasrec_and_recbole_item_ids_are_per_domain(tmp_path, make):
    cd = data.prepare(*make(tmp_path), **LOO)
    a, b = cd.domains["A"].global_ids[1:], cd.domains["B"].global_ids[1:]
    assert cd.n_global_items == 1 + 6 + 5 and not np.isin(a, b).any()
    assert cd.domains["A"].items[1:].tolist() == list("123456")  # the items keep their own strings


@pytest.mark.parametrize("make", [sasrec_pair, recbole_pair], ids=["sasrec", "recbole"])
def test_shared_item_ids_joins_them(tmp_path, make):
    cd = data.prepare(*make(tmp_path), shared_item_ids=True, **LOO)
    assert cd.n_global_items == 1 + 6
    assert cd.domains["B"].global_ids.tolist() == cd.domains["A"].global_ids[:6].tolist()


def test_amazon_ids_stay_shared(tmp_path):
    asins = [f"B00000000{k}" for k in range(6)]
    users = [f"A{k:02d}XYZ0123456" for k in range(6)]
    a = write(tmp_path / "a.csv", events(users, asins))
    b = write(tmp_path / "b.csv", events(users[:5], asins[:5]))
    cd = data.prepare(a, b, **LOO)
    assert cd.n_global_items == 1 + 6
    assert cd.domains["B"].global_ids.tolist() == cd.domains["A"].global_ids[:6].tolist()


def test_the_data_cli_shows_per_domain_ids_and_takes_shared_item_ids(tmp_path, capsys):
    a, b = sasrec_pair(tmp_path, 16, 14)  # 1 + 9 candidates: each user has 4 items of 14 or more
    argv = [a, b, "--kcore", "1", "--split", "loo"]
    code, out, _ = run_data_cli(argv, capsys)
    assert code == 0 and "| Overlap items | 0.00% | 0.00% |" in out and "| Item ids | per domain | per domain |" in out
    code, out, _ = run_data_cli([*argv, "--shared-item-ids"], capsys)
    assert code == 0 and "| Overlap items | 87.50% | 100.00% |" in out and "| Item ids | shared | shared |" in out


# ------------------------------------------------------------------------------- padding, separators, quotes
PLAIN = "{},{},{},{}"


@pytest.mark.parametrize("line, end", [
    ("{}, {}, {}, {}", "\n"),  # a space after each comma
    ("{} , {} , {} , {} ", "\n"),  # spaces on both sides
    ("{}; {}; {}; {}", "\n"),
    ("{}\t{}\t{}\t{}", "\n"),
    ("{} \t {} \t {} \t {}", "\n"),
    ('"{}","{}",{},{}', "\n"),  # quoted ids
    ('"{}", "{}", {}, {}', "\n"),
    ('"{}";"{}";{};{}', "\n"),
    ("{} , {} , {} , {} ", "\r\n"),  # Windows line ends and padding
    ("{},{},{},{}", "\r\n"),
], ids=["space-after-comma", "padded", "semicolon", "tab", "tab-padded", "quoted", "quoted-padded",
        "quoted-semicolon", "crlf-padded", "crlf"])
@pytest.mark.parametrize("ids", ["own", "amazon"])
def test_padded_quoted_and_other_separated_files_read_as_the_plain_file(tmp_path, line, end, ids):
    users, items = (USERS, ITEMS) if ids == "own" else ([f"A{k:02d}XYZ0123456" for k in range(6)],
                                                         [f"B00000000{k}" for k in range(5)])
    rows = events(users, items)
    plain = data.load_ratings(write(tmp_path / "plain.csv", rows, PLAIN))
    path = write(tmp_path / "a.csv", rows, line, end)
    assert formats.resolve(path).name == ("csv" if ids == "own" else "amazon2014")
    got = data.load_ratings(path)
    assert got.equals(plain), got.head()


def test_a_space_after_the_comma_keeps_shared_items_shared(tmp_path):
    """A is written with a space after each comma, B without; B's 5 items are 5 of A's 6: 100% and 5/6 overlap."""
    a = write(tmp_path / "a.csv", events(USERS, [*ITEMS, "i9"]), "{}, {}, {}, {}")
    b = write(tmp_path / "b.csv", events(USERS[:5], ITEMS))
    stats = data.describe(a, b, **LOO)
    assert stats["B"]["overlap_items"] == 1.0 and stats["A"]["overlap_items"] == 5 / 6


# ------------------------------------------------------------------------------- JSON: integer ids
BIG = [2**62 + 5, 2**63 + 7, 2**64 + 11, 12345]


def test_integer_json_ids_are_read_as_their_digits(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_text("".join(json.dumps({"user_id": u, "parent_asin": "B000000001" if k % 2 else 678, "rating": 5,
                                        "timestamp": (T0 + k) * 1000}) + "\n" for k, u in enumerate(BIG)))
    assert formats.resolve(path).name == "amazon2023-jsonl"
    df = data.load_ratings(path)
    assert df["user"].tolist() == [str(u) for u in BIG]  # 2**63 + 7 keeps every digit
    assert df["item"].tolist() == ["678", "B000000001", "678", "B000000001"]
    assert df["rating"].tolist() == [5.0] * 4 and df["timestamp"].tolist() == [T0, T0 + 1, T0 + 2, T0 + 3]


def test_integer_ids_in_one_domain_and_strings_in_the_other_are_the_same_ids(tmp_path):
    """A's JSON gives user and item ids as integers, B's CSV the same ids as strings: shared items stay shared."""
    users, items = [str(10**11 + k) for k in range(6)], [str(2**63 + k) for k in range(5)]
    a = tmp_path / "a.jsonl"
    a.write_text("".join(f'{{"user_id": {u}, "parent_asin": {i}, "rating": 4.0, "timestamp": {t * 1000}}}\n'
                         for u, i, _, t in events(users, items)))
    b = write(tmp_path / "b.csv", events(users, items))
    cd = data.prepare(a, b, **LOO)
    assert [dd.format for dd in cd.domains.values()] == ["amazon2023-jsonl", "csv"]
    assert cd.domains["A"].items.tolist() == cd.domains["B"].items.tolist() == ["", *sorted(items)]
    assert cd.n_global_items == 1 + 5
    assert cd.domains["A"].users.tolist() == cd.domains["B"].users.tolist() == users


# ------------------------------------------------------------------------------- header-only files
@pytest.mark.parametrize("name, header, fmt", [
    ("a.csv", "user_id,parent_asin,rating,timestamp", "amazon2023"),
    ("a.inter", "user_id:token\titem_id:token\trating:float\ttimestamp:float", "recbole"),
])
def test_a_header_only_file_is_refused_naming_it_without_warnings(tmp_path, name, header, fmt):
    path = tmp_path / name
    path.write_text(header + "\n")
    with warnings.catch_warnings(record=True) as caught, pytest.raises(DataError) as err:
        warnings.simplefilter("always")
        data.load_ratings(path)
    assert caught == []
    assert one_line(err.value) == f"{path}: no rating rows (a header only?); expected {formats.FORMATS[fmt].layout}"


def test_a_header_only_file_exits_2_with_one_line(tmp_path, capsys):
    path = tmp_path / "a.csv"
    path.write_text("user_id,parent_asin,rating,timestamp\n")
    code, _, err = run_data_cli([path, path], capsys)
    assert code == 2 and err == f"python -m mini_man.data: error: {path}: no rating rows (a header only?); " \
                                f"expected {formats.FORMATS['amazon2023'].layout}\n"


# ------------------------------------------------------------------------------- a stray separator
def test_a_stray_trailing_comma_is_reported_at_its_line(tmp_path):
    path = tmp_path / "a.csv"
    rows = [f"AG{k:026d},B00000000{k % 4},5.0,{(T0 + k) * 1000}" for k in range(600)]
    rows[0] += ","  # line 2, after the header
    path.write_text("user_id,parent_asin,rating,timestamp\n" + "\n".join(rows) + "\n")
    with pytest.raises(DataError) as err:
        data.load_ratings(path)
    assert one_line(err.value) == (
        f"{path}: wrong number of columns: line 2 has 5 fields where line 1 has 4 ({rows[0]!r}): remove the stray "
        f"separator, or fix the row; format amazon2023: {formats.FORMATS['amazon2023'].layout}")


def test_a_stray_separator_in_a_headerless_file_is_reported_at_its_line(tmp_path):
    path = write(tmp_path / "a.csv", events(USERS, ITEMS))
    lines = path.read_text().splitlines()
    lines[2] += ",x"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError, match=r": wrong number of columns: line 3 has 5 fields where line 1 has 4 "
                                        r"\('u0,i2,5\.0,1400172800,x'\)"):
        data.load_ratings(path)


# ------------------------------------------------------------------------------- rating scales
HALF_STARS = [0.5, 1.5, 2.5, 3.5, 4.5, 5.0]


def test_half_star_ratings_of_your_own_file_are_read(tmp_path):
    rows = [(u, i, HALF_STARS[k % 6], t) for k, (u, i, _, t) in enumerate(events(USERS, ITEMS))]
    path = write(tmp_path / "a.csv", rows)
    df = data.load_ratings(path)
    assert formats.resolve(path).name == "csv" and df["rating"].tolist() == [r[2] for r in rows]


def test_other_ratings_in_an_amazon_file_say_the_range_and_how_to_pass_them(tmp_path):
    users, items = [f"A{k:02d}XYZ0123456" for k in range(6)], [f"B00000000{k}" for k in range(5)]
    rows = [(u, i, HALF_STARS[k % 6], t) for k, (u, i, _, t) in enumerate(events(users, items))]
    path = write(tmp_path / "a.csv", rows)
    with pytest.raises(DataError) as err:
        data.load_ratings(path)
    assert one_line(err.value) == (
        f"{path}: 4 row(s) with a rating outside Amazon's 1-5 stars, e.g. line 1: user 'A00XYZ0123456', item "
        f"'B000000000', rating '0.5', timestamp '{T0}'; format amazon2014 holds Amazon's 1-5 stars: for ratings on "
        "another scale (0.5 steps, 0-10, ...) use --format csv (your own user,item,rating,timestamp file: any "
        "number), or check the column order")
    assert data.load_ratings(path, "csv")["rating"].tolist() == [r[2] for r in rows]


# ------------------------------------------------------------------------------- users with one interaction
@pytest.mark.parametrize("split, needs", [
    ("time", data.NEEDS["time"]), ("loo", data.NEEDS["loo"])])
def test_kcore_1_on_users_with_one_interaction_says_what_a_user_needs(tmp_path, capsys, split, needs):
    path = write(tmp_path / "a.csv", events(USERS, ITEMS, per_user=1))
    code, _, err = run_data_cli([path, path, "--kcore", "1", "--split", split], capsys)
    assert code == 2 and err == (
        f"python -m mini_man.data: error: domain A ({path}): every user has a single interaction, so there is no "
        f"instance: an instance is a user's earlier items (the history) and the next item, so a user needs at "
        f"least 2 interactions; {needs}\n")
    assert "4 for a training instance" in data.NEEDS["loo"]


def test_loo_users_with_two_interactions_give_no_training_split_and_say_why(tmp_path):
    path = write(tmp_path / "a.csv", events(USERS, ITEMS, per_user=2))
    with pytest.raises(DataError) as err:
        data.prepare(path, path, **LOO)
    assert one_line(err.value) == (f"domain A ({path}): the train split is empty (split='loo', valid_days=90, "
                                   f"test_days=90); {data.NEEDS['loo']}")


# ------------------------------------------------------------------------------- checkpoints on other data
@pytest.fixture(scope="module")
def pop_checkpoint(tmp_path_factory):
    """Two small CSV domains, and a `pop` checkpoint saved on them (pop trains in no time)."""
    folder = tmp_path_factory.mktemp("ckpt")
    users, items = [f"A{k:02d}XYZ0123456" for k in range(40)], [f"B0000000{k:02d}" for k in range(20)]
    a = write(folder / "a.csv", events(users, items, per_user=6, step=3 * DAY))
    b = write(folder / "b.csv", events(users[:30], items[5:], per_user=5, step=3 * DAY))
    base = ["--domain-a", a, "--domain-b", b, "--kcore", "2", "--max-len", "4", "--split", "loo", "--models",
            "pop", "--full-ranking", "0", "--eval-negatives", "3"]
    ckpt = folder / "pop.pt"
    threads = torch.get_num_threads()
    assert cli.main([str(x) for x in [*base, "--save", ckpt]]) == 0
    torch.set_num_threads(threads)
    return base, ckpt, (a, b)


def renamed(path: Path, out: Path) -> Path:
    """A copy of the file whose item ids B0000000kk are renamed one-to-one to B1000000jj, j = 7k mod 20 (the same
    counts, the same shared items, another order)."""
    lines = path.read_text().splitlines()
    new = {f"B0000000{k:02d}": f"B1000000{(7 * k) % 20:02d}" for k in range(20)}  # 7 is prime to 20
    out.write_text("".join(",".join([f[0], new[f[1]], *f[2:]]) + "\n" for f in (line.split(",") for line in lines)))
    return out


def test_load_on_renamed_item_ids_is_refused(pop_checkpoint, tmp_path, capsys):
    base, ckpt, (a, b) = pop_checkpoint
    argv = [*base, "--load", ckpt]
    argv[1], argv[3] = renamed(a, tmp_path / "a.csv"), renamed(b, tmp_path / "b.csv")
    code, out, err = run_train_cli(argv, capsys)
    assert code == 2 and out == ""
    assert err.splitlines()[-1] == (f"python -m mini_man.train: error: {ckpt} does not fit these data: the item ids "
                                    "of domain A differ (other files, or renamed ids?); the item ids of domain B "
                                    "differ (other files, or renamed ids?)")


@pytest.mark.parametrize("change, difference", [
    (["--split", "time"], "split loo there, time here"),
    (["--kcore", "3"], "kcore 2 there, 3 here"),
])
def test_load_with_another_split_or_kcore_is_refused_naming_it(pop_checkpoint, capsys, change, difference):
    base, ckpt, _ = pop_checkpoint
    code, _, err = run_train_cli([*base, *change, "--load", ckpt], capsys)
    assert code == 2 and f"{ckpt} does not fit these data: {difference}" in err.splitlines()[-1]


def test_load_with_the_shared_item_table_remapped_is_refused(pop_checkpoint, capsys):
    """The same item strings, other rows of the shared table: the identity sees it (here changed by hand)."""
    base, ckpt, _ = pop_checkpoint
    saved = checkpoint.load(ckpt)
    saved["data"]["global rows B"] = "0" * 64
    other = ckpt.with_name("remapped.pt")
    torch.save(saved, other)
    code, _, err = run_train_cli([*base, "--load", other], capsys)
    assert code == 2 and err.splitlines()[-1].endswith(
        "does not fit these data: domain B maps its items to other rows of the shared item table (other files, or "
        "--shared-item-ids?)")


def test_load_may_change_the_evaluation_options(pop_checkpoint, capsys):
    base, ckpt, _ = pop_checkpoint
    argv = [*base, "--load", ckpt, "--warm-targets-only", "--full-ranking", "all"]
    argv[argv.index("--eval-negatives") + 1] = "2"
    code, out, _ = run_train_cli(argv, capsys)
    assert code == 0 and "1 + 2 fixed candidates" in out and "(warm targets only)" in out


def test_an_old_checkpoint_version_is_a_one_line_error(pop_checkpoint, capsys):
    base, ckpt, _ = pop_checkpoint
    old = checkpoint.load(ckpt)
    old["format"] = "mini-man checkpoint 1"
    del old["data"]
    path = ckpt.with_name("old.pt")
    torch.save(old, path)
    code, _, err = run_train_cli([*base, "--load", path], capsys)
    assert code == 2 and err == (f"python -m mini_man.train: error: {path}: a checkpoint of format 'mini-man "
                                 "checkpoint 1'; this mini-MAN reads 'mini-man checkpoint 2', which also records the "
                                 "data it was trained on: train it again with --save\n")


# ------------------------------------------------------------------------------- output paths
@pytest.mark.parametrize("flag, example", [("--out", "results.json"), ("--save", "model.pt")])
def test_an_output_path_that_is_a_folder_is_refused_before_training(pop_checkpoint, tmp_path, capsys, flag,
                                                                     example):
    base, _, _ = pop_checkpoint
    code, out, err = run_train_cli([*base, flag, tmp_path], capsys)
    assert code == 2 and out == "" and err == (f"python -m mini_man.train: error: {flag}: {tmp_path.resolve()} is a "
                                               f"folder: give a file path, e.g. {tmp_path.resolve() / example}\n")


@pytest.mark.parametrize("target, words", [
    (lambda base, tmp: base[1], "is also --domain-a: give another path"),
    (lambda base, tmp: tmp / "file.txt" / "r.json", "directory not found"),
    pytest.param(lambda base, tmp: Path("/proc/mini_man_r.json"), "cannot create /proc/mini_man_r.json",
                 marks=pytest.mark.skipif(not (Path("/proc/self").is_dir() and os.access("/proc", os.W_OK | os.X_OK)),
                                          reason="the permission bits refuse /proc here (not root), or no /proc")),
])
def test_an_output_path_that_cannot_be_written_is_refused_before_training(pop_checkpoint, tmp_path, capsys,
                                                                           target, words):
    base, _, _ = pop_checkpoint
    (tmp_path / "file.txt").write_text("a file, not a folder")
    code, out, err = run_train_cli([*base, "--out", target(base, tmp_path)], capsys)
    assert code == 2 and out == "" and err.count("\n") == 1 and words in err and "== pop" not in err


def test_out_and_save_cannot_be_the_same_file(pop_checkpoint, tmp_path, capsys):
    base, _, _ = pop_checkpoint
    path = tmp_path / "x"
    code, _, err = run_train_cli([*base, "--out", path, "--save", path], capsys)
    assert code == 2 and err.strip().endswith(f"--out: {path.resolve()} is also --save: give another path")


def test_an_output_path_that_fails_at_the_end_is_written_elsewhere(pop_checkpoint, tmp_path, capsys, monkeypatch):
    """The paths pass the checks; during the run they become folders. The results and the checkpoint land in the
    temporary folder, stderr says where, and the exit code is 2."""
    base, _, _ = pop_checkpoint
    out, save = tmp_path / "r.json", tmp_path / "m.pt"
    train_all = cli.run_all

    def run_all_then_block(*args, **kw):
        runs = train_all(*args, **kw)
        out.mkdir()
        save.mkdir()
        return runs

    monkeypatch.setattr(cli, "run_all", run_all_then_block)
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    code, stdout, err = run_train_cli([*base, "--out", out, "--save", save], capsys)
    assert code == 2 and "AUC" in stdout
    lines = [line for line in err.splitlines() if "cannot write" in line]
    assert len(lines) == 2 and lines[0].startswith(f"python -m mini_man.train: error: --save {save}: cannot write (")
    fallback_json = Path(lines[1].split(" written to ")[1].removesuffix(" instead"))
    fallback_ckpt = Path(lines[0].split(" written to ")[1].removesuffix(" instead"))
    assert fallback_json.parent == fallback_ckpt.parent == tmp_path / "tmp"
    assert set(json.loads(fallback_json.read_text())["results"]) == {"pop"}
    assert checkpoint.load(fallback_ckpt)["model"] == "pop"
