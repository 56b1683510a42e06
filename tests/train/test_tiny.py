"""The tiny offline tokenizer and model: atomic chat tokens, the chat template, save and reload."""

from __future__ import annotations

from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
from transformers import AutoModelForCausalLM, AutoTokenizer  # noqa: E402

from swe_srl.train.tiny import (  # noqa: E402
    ENDOFTEXT, IM_END, IM_START, THINK_CLOSE, THINK_OPEN, default_corpus, save_tiny, tiny_model, tiny_tokenizer,
)


@pytest.fixture(scope="module")
def tokenizer():
    return tiny_tokenizer()


@pytest.fixture(scope="module")
def saved(tmp_path_factory) -> Path:
    return save_tiny(tmp_path_factory.mktemp("tiny"))


def test_chat_and_think_tokens_are_atomic(tokenizer) -> None:
    for token in (IM_START, IM_END, ENDOFTEXT, THINK_OPEN, THINK_CLOSE):
        ids = tokenizer(f"a{token}b", add_special_tokens=False)["input_ids"]
        assert tokenizer.convert_tokens_to_ids(token) in ids
        assert tokenizer.convert_ids_to_tokens(ids).count(token) == 1


def test_action_markers_are_one_token_each() -> None:
    tokenizer = tiny_tokenizer(action_markers=True)
    text = (f"{THINK_OPEN}look{THINK_CLOSE}\n<function=str_replace_editor>\n<parameter=command>view</parameter>\n"
            "<parameter=path>/testbed/a.py</parameter>\n</function>")
    tokens = tokenizer.convert_ids_to_tokens(tokenizer(text, add_special_tokens=False)["input_ids"])
    markers = [THINK_OPEN, THINK_CLOSE, "<function=str_replace_editor>", "<parameter=command>", "</parameter>",
               "<parameter=path>", "</parameter>", "</function>"]
    assert [t for t in tokens if t in set(markers)] == markers
    assert tokenizer.decode(tokenizer(text, add_special_tokens=False)["input_ids"], skip_special_tokens=True) == text


def test_pad_and_eos(tokenizer) -> None:
    assert tokenizer.eos_token == IM_END
    assert tokenizer.pad_token == ENDOFTEXT
    assert tokenizer.eos_token_id != tokenizer.pad_token_id


def test_decode_keeps_think_but_drops_chat_markers(tokenizer) -> None:
    text = f"{IM_START}assistant\n{THINK_OPEN}why{THINK_CLOSE}\n<function=submit>\n</function>{IM_END}"
    ids = tokenizer(text)["input_ids"]
    assert tokenizer.decode(ids) == text
    clean = tokenizer.decode(ids, skip_special_tokens=True)
    assert THINK_OPEN in clean and IM_START not in clean and IM_END not in clean


def test_chat_template_renders_qwen2_turns(tokenizer) -> None:
    messages = [
        {"role": "system", "content": "You fix bugs."},
        {"role": "user", "content": "The parser fails."},
        {"role": "assistant", "content": "<function=bash>\n<parameter=command>ls</parameter>\n</function>"},
    ]
    text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    assert text == (
        "<|im_start|>system\nYou fix bugs.<|im_end|>\n"
        "<|im_start|>user\nThe parser fails.<|im_end|>\n"
        "<|im_start|>assistant\n<function=bash>\n<parameter=command>ls</parameter>\n</function><|im_end|>\n"
        "<|im_start|>assistant\n"
    )
    plain = tokenizer.apply_chat_template(messages[:2], tokenize=False)
    assert plain.endswith("<|im_end|>\n")


def test_unseen_text_round_trips(tokenizer) -> None:
    text = "naïve 世界 \t tabs\r\n and emoji 🙂 <function=bash>"
    assert tokenizer.decode(tokenizer(text)["input_ids"]) == text


def test_model_is_small_and_runs(tokenizer) -> None:
    model = tiny_model(tokenizer)
    params = sum(p.numel() for p in model.parameters())
    assert 50_000 < params < 1_000_000
    ids = tokenizer("def f(x):", return_tensors="pt")["input_ids"]
    logits = model(input_ids=ids).logits
    assert logits.shape == (1, ids.shape[1], len(tokenizer))


def test_same_seed_same_weights(tokenizer) -> None:
    a, b = tiny_model(tokenizer, seed=1), tiny_model(tokenizer, seed=1)
    c = tiny_model(tokenizer, seed=2)
    wa, wb, wc = (m.model.embed_tokens.weight for m in (a, b, c))
    assert torch.equal(wa, wb) and not torch.equal(wa, wc)


def test_save_and_reload(saved: Path, tokenizer) -> None:
    loaded_tok = AutoTokenizer.from_pretrained(saved)
    model = AutoModelForCausalLM.from_pretrained(saved)
    assert model.config.model_type == "qwen2"
    assert model.config.vocab_size == len(loaded_tok)
    # The reloaded tokenizer splits text exactly as the freshly trained one does.
    for text in list(default_corpus(5, seed=7)) + ["<|im_start|>user\n<think> x</think><|im_end|>"]:
        assert loaded_tok(text)["input_ids"] == tokenizer(text)["input_ids"]
    messages = [{"role": "user", "content": "hi"}]
    assert loaded_tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=True) == (
        "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n"
    )
    ids = loaded_tok("def f(x):", return_tensors="pt")
    out = model.generate(**ids, max_new_tokens=4, do_sample=False)
    assert out.shape[1] <= ids["input_ids"].shape[1] + 4
    assert model.generation_config.eos_token_id == loaded_tok.eos_token_id
