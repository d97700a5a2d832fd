"""SCT-Diff reference implementation (PyTorch): config, network, scan, noise, schedule, I/O."""
from .config import ModelConfig, b256_config, get_config, tiny_config
from .model import SCTDiff, build_model, decode_outputs, init_weights

__all__ = ["ModelConfig", "SCTDiff", "b256_config", "build_model", "decode_outputs", "get_config",
           "init_weights", "tiny_config"]
