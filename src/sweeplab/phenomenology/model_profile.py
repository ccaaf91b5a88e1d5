"""What a model file name says about the model: parameter count and quantisation.

The simulated mind never opens the file; it only reads the size and precision from the
name, the way ``llama-3.2-1b-instruct-q4_k_m.gguf`` reads as "1 billion parameters, 4-bit".
Unrecognised names fall back to a 1B model at ~4.5 bits per weight.

>>> p = ModelProfile.from_path("models/qwen2.5-0.5b-instruct-q8_0.gguf")
>>> (p.params_billion, p.bits_per_weight)
(0.5, 8.5)
>>> ModelProfile.from_path("gemma-3-270m-it-f16.gguf").params_billion
0.27
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePath

__all__ = ["ModelProfile", "DEFAULT_PARAMS_BILLION", "DEFAULT_BITS"]

DEFAULT_PARAMS_BILLION = 1.0
DEFAULT_BITS = 4.5

# a size like 0.5b, 1B, 7b or 270m, not preceded by a digit/dot and not followed by a letter
_SIZE = re.compile(r"(?<![\d.])(\d+(?:\.\d+)?)([bm])(?![a-z])")
_QUANT = re.compile(r"(?<![a-z])(?:i?q)(\d)(?:_|\b|k)")
_FLOAT = re.compile(r"(?<![a-z])b?f(?:p)?(16|32)(?![\d])")


@dataclass(frozen=True)
class ModelProfile:
    """Size and precision of a model, and the derived quantities the simulation uses."""

    params_billion: float = DEFAULT_PARAMS_BILLION
    bits_per_weight: float = DEFAULT_BITS

    @classmethod
    def from_path(cls, model_path: str) -> ModelProfile:
        """Parse ``model_path``'s file name; unknown parts keep their defaults."""
        name = PurePath(model_path).name.lower()
        params = DEFAULT_PARAMS_BILLION
        size = _SIZE.search(name)
        if size:
            value = float(size.group(1))
            params = value / 1000.0 if size.group(2) == "m" else value
        bits = DEFAULT_BITS
        quant = _QUANT.search(name)
        if quant:
            bits = int(quant.group(1)) + 0.5
        else:
            floating = _FLOAT.search(name)
            if floating:
                bits = float(floating.group(1))
        return cls(params_billion=max(params, 0.01), bits_per_weight=bits)

    @property
    def weights_gb(self) -> float:
        """Resident size of the weights."""
        return self.params_billion * self.bits_per_weight / 8.0

    @property
    def layers(self) -> int:
        """Approximate transformer depth (16 layers at 1B, ~32 at 7B)."""
        return max(4, round(16 * self.params_billion ** 0.35))

    @property
    def size_factor(self) -> float:
        """How per-token memory scales with model width (1.0 at 1B)."""
        return self.params_billion ** 0.5
