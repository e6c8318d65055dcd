"""Reading and writing files: parameter sets (safetensors)."""

from .params import load_params, save_params

__all__ = ["save_params", "load_params"]
