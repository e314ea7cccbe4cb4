"""Checkpoints of a trained model: one `state_dict` per domain (each domain's best epoch, appendix A.5).

A checkpoint is a plain dict of tensors, strings and numbers, saved with `torch.save` and read back with
`torch.load(..., weights_only=True)`, so loading one never runs pickled code.
"""
from dataclasses import asdict
from pathlib import Path

import torch

FORMAT = "mini-man checkpoint 1"


def save(path, name: str, cfg, states: dict[str, dict], best_epoch: dict) -> None:
    """Write model `name`, its config (a MANConfig or SASRecConfig; None for `pop`) and the best `state_dict` of
    each trained domain to `path`."""
    torch.save({"format": FORMAT, "model": name, "config": {} if cfg is None else asdict(cfg), "states": states,
                "best_epoch": best_epoch}, Path(path))


def load(path) -> dict:
    """Read a checkpoint written by `save`: {"model", "config", "states", "best_epoch"}.

    Raises ValueError (one line, naming the file) when the file is missing or not a mini-MAN checkpoint.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"checkpoint not found: {path}")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # a corrupt or foreign file can fail in many ways inside the unpickler
        raise ValueError(f"{path}: not a readable checkpoint ({type(e).__name__})") from e
    if not isinstance(ckpt, dict) or ckpt.get("format") != FORMAT:
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


def load_into(model, state: dict, path) -> None:
    """`model.load_state_dict(state)`, with a one-line ValueError when the shapes do not fit (other data)."""
    try:
        model.load_state_dict(state)
    except RuntimeError:  # missing keys or other tensor shapes
        raise ValueError(f"{path} does not fit these data (other item counts: other files, --kcore or --split?)") \
            from None
