"""Checkpoints of a trained model: one `state_dict` per domain (each domain's best epoch, appendix A.5).

A checkpoint is a plain dict of tensors, strings and numbers, saved with `torch.save` and read back with
`torch.load(..., weights_only=True)`, so loading one never runs pickled code. It also holds what identifies the
data it was trained on (`identity`): row k of an item table belongs to one item string, so a checkpoint is only
valid on data with the same items in the same rows, whatever the shapes say.
"""
import hashlib
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch

FORMAT = "mini-man checkpoint 2"


def identity(data, split: str, kcore: int) -> dict:
    """What identifies the prepared data (`data.CrossDomainData`) for a checkpoint: T, the split, the k-core, and
    per domain the item count and a SHA-256 of its item strings in row order and of its rows of the shared
    (global) item table. Evaluation settings (candidates, warm targets, full ranking) are not part of it."""
    out = {"max_len": int(data.max_len), "split": split, "kcore": int(kcore),
           "global items": int(data.n_global_items)}
    for d, dd in data.domains.items():
        out[f"items {d}"] = int(dd.n_items - 1)
        out[f"item ids {d}"] = hashlib.sha256("\n".join(map(str, dd.items[1:])).encode()).hexdigest()
        out[f"global rows {d}"] = hashlib.sha256(np.ascontiguousarray(dd.global_ids, dtype=np.int64).tobytes()
                                                 ).hexdigest()
    return out


def save(path, name: str, cfg, states: dict[str, dict], best_epoch: dict, data_identity: dict) -> None:
    """Write model `name`, its config (a MANConfig or SASRecConfig; None for `pop`), the best `state_dict` of
    each trained domain and the `identity` of its data to `path`."""
    torch.save({"format": FORMAT, "model": name, "config": {} if cfg is None else asdict(cfg), "states": states,
                "best_epoch": best_epoch, "data": data_identity}, Path(path))


def load(path) -> dict:
    """Read a checkpoint written by `save`: {"model", "config", "states", "best_epoch", "data"}.

    Raises ValueError (one line, naming the file) when the file is missing, not a mini-MAN checkpoint, or a
    checkpoint of another format version.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"checkpoint not found: {path}")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # a corrupt or foreign file can fail in many ways inside the unpickler
        raise ValueError(f"{path}: not a readable checkpoint ({type(e).__name__})") from e
    version = ckpt.get("format") if isinstance(ckpt, dict) else None
    if isinstance(version, str) and version.startswith("mini-man checkpoint") and version != FORMAT:
        raise ValueError(f"{path}: a checkpoint of format {version!r}; this mini-MAN reads {FORMAT!r}, which also "
                         "records the data it was trained on: train it again with --save")
    if version != FORMAT:
        raise ValueError(f"{path}: not a mini-MAN checkpoint")
    return ckpt


def check_config(ckpt: dict, name: str, cfg, path) -> None:
    """Raise ValueError (one line) unless the checkpoint holds model `name` with exactly config `cfg`."""
    if ckpt["model"] != name:
        raise ValueError(f"{path} holds model {ckpt['model']!r}, not {name!r}")
    diff = [f"{k} {ckpt['config'].get(k)} there, {v} here" for k, v in ({} if cfg is None else asdict(cfg)).items()
            if ckpt["config"].get(k) != v]
    if diff:
        raise ValueError(f"{path} was trained with another config ({'; '.join(diff)})")


def check_data(ckpt: dict, data_identity: dict, path) -> None:
    """Raise ValueError (one line) naming the differences between the checkpoint's data and these data. A hash is
    only compared where the counts agree, and a domain's global rows only where its item ids agree."""
    there, diff = ckpt["data"], []
    same = {k: there.get(k) == v for k, v in data_identity.items()}
    for key, here in data_identity.items():
        kind, _, d = key.rpartition(" ")
        if same[key] or (kind == "item ids" and not same[f"items {d}"]) or \
                (kind == "global rows" and not (same[f"items {d}"] and same[f"item ids {d}"])):
            continue
        if kind == "item ids":
            diff.append(f"the item ids of domain {d} differ (other files, or renamed ids?)")
        elif kind == "global rows":
            diff.append(f"domain {d} maps its items to other rows of the shared item table (other files, or "
                        "--shared-item-ids?)")
        else:
            diff.append(f"{key} {there.get(key)} there, {here} here")
    if diff:
        raise ValueError(f"{path} does not fit these data: {'; '.join(diff)}")


def load_into(model, state: dict, path) -> None:
    """`model.load_state_dict(state)`, with a one-line ValueError when the shapes do not fit (other data)."""
    try:
        model.load_state_dict(state)
    except RuntimeError:  # missing keys or other tensor shapes
        raise ValueError(f"{path} does not fit these data (other item counts: other files, --kcore or --split?)") \
            from None
