"""vllm.inputs.TokensPrompt (vllm/inputs/llm.py): a tokenized prompt."""

from typing import TypedDict


class TokensPrompt(TypedDict, total=False):
    prompt_token_ids: list[int]
    prompt: str
