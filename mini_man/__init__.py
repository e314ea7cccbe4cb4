"""mini-MAN: a small, faithful PyTorch reference of MAN (Lin et al., WSDM'24)."""
from mini_man.config import MANConfig, variant

__all__ = ["MANConfig", "variant"]
