"""Fixtures for the model tests."""
import pytest
import torch

from tiny import make_model

torch.set_num_threads(1)  # small tensors: one thread is fastest and keeps results bitwise stable


@pytest.fixture
def model():
    return make_model()
