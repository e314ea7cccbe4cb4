"""End-to-end check of GPU training, for a machine that has one; without a GPU it says so and exits 0.

    python benchmarks/check_gpu.py

1. trains `man` and `single` for one epoch on data/sample/ with `--device cuda` through the CLI;
2. prints training throughput (instances/s) of `man` and `single` on the GPU at the paper's Amazon and
   Micro Video settings (same measurement as bench_train.py).
"""
import subprocess
import sys
from pathlib import Path

import torch

from bench_train import SETTINGS, build, median_seconds, training_step


def main() -> int:
    if not torch.cuda.is_available():
        print("no CUDA device: GPU check skipped")
        return 0
    print(f"device: {torch.cuda.get_device_name(0)}")
    repo = Path(__file__).resolve().parent.parent
    cmd = [sys.executable, "-m", "mini_man.train", "--device", "cuda", "--epochs", "1", "--models", "man,single"]
    done = subprocess.run(cmd, cwd=repo)
    if done.returncode != 0:
        print(f"GPU training failed: {' '.join(cmd)} exited {done.returncode}")
        return 1
    for name, setting in SETTINGS.items():
        seconds = median_seconds({m: training_step(build(m, setting, device="cuda"), setting, K=9)
                                  for m in ("man", "single")}, repeats=20)
        for model, s in seconds.items():
            print(f"{name:<11} {model:<7} {setting['batch'] / s:>10.0f} instances/s (batch {setting['batch']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
