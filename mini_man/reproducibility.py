"""Seeding, the CPU kernel set, and the one-line setup every notebook starts with."""
import os
import random

import numpy as np
import torch


def seed_everything(seed: int) -> np.random.Generator:
    """Seed Python, NumPy and PyTorch; return a NumPy Generator to pass around explicitly."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    return np.random.default_rng(seed)


# Training amplifies the last bit of every sum, and which bits a sum ends with depends on the SIMD kernels a CPU
# gets: on an AVX-512 CPU, PyTorch and MKL pick other kernels than on an AVX2-only one, and a notebook's two-epoch
# run then prints other metrics from the 2nd decimal on. These settings give every x86-64 CPU the same kernels:
# PyTorch's own AVX2 kernels (all x86-64 CPUs of the last decade have AVX2) and MKL's COMPATIBLE branch, the one
# branch of MKL's conditional numerical reproducibility that Intel documents as giving the same results on Intel
# and non-Intel CPUs. Other architectures (ARM, e.g. Apple silicon) run other kernels: their numbers differ.
# The COMPATIBLE branch is slower than the one MKL picks for the CPU, so only the notebooks and the tests pin it;
# the command line computes with the CPU's own kernels and records them in its JSON.
CPU_KERNELS = {
    "ATEN_CPU_CAPABILITY": "avx2",  # PyTorch's vectorised kernels (sums, softmax, exp, ...)
    "MKL_CBWR": "COMPATIBLE",  # MKL's matrix products
    "ONEDNN_MAX_CPU_ISA": "AVX2",  # oneDNN's JIT kernels
    "OPENBLAS_CORETYPE": "Haswell",  # the OpenBLAS of NumPy and scikit-learn (K-Means, t-SNE): its AVX2 kernels
}


def pin_cpu_kernels() -> None:
    """Select the kernel set `CPU_KERNELS` for this process. Effective when called before the process's first
    tensor computation (PyTorch, MKL and oneDNN read these variables at their first use, not at `import torch`);
    child processes inherit it. OpenBLAS reads its variable when NumPy is imported, so in a process that has
    imported NumPy it takes effect only in the children: the kernels `pytest --nbval` starts (the root conftest.py
    pins the test process before any of them), not a notebook opened in a Jupyter started without it."""
    os.environ.update(CPU_KERNELS)


def notebook_setup(seed: int = 0) -> np.random.Generator:
    """First cell of every notebook: the CPU kernel set (`pin_cpu_kernels`: the stored outputs were made under it),
    seeds, ONE thread (results then do not depend on the core count), short tensor printing. Returns the seeded
    NumPy Generator."""
    pin_cpu_kernels()
    torch.set_num_threads(1)
    torch.set_printoptions(precision=4, sci_mode=False)
    np.set_printoptions(precision=4, suppress=True)
    return seed_everything(seed)
