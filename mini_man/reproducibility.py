"""Seeding and the one-line setup every notebook starts with."""
import random

import numpy as np
import torch


def seed_everything(seed: int) -> np.random.Generator:
    """Seed Python, NumPy and PyTorch; return a NumPy Generator to pass around explicitly."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    return np.random.default_rng(seed)


def notebook_setup(seed: int = 0) -> np.random.Generator:
    """First cell of every notebook: seeds, ONE thread (results then do not depend on the core count), short
    tensor printing. Returns the seeded NumPy Generator."""
    torch.set_num_threads(1)
    torch.set_printoptions(precision=4, sci_mode=False)
    np.set_printoptions(precision=4, suppress=True)
    return seed_everything(seed)
