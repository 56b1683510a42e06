"""Left padding and end-of-sequence cuts, the two halves of decoding a batch of prompts."""

from __future__ import annotations

import pytest

from swe_srl.batch_decoding import cut_at_eos, left_pad


def test_left_pad_right_aligns_every_prompt_and_masks_the_pads():
    ids, mask = left_pad([[5, 6, 7], [8], (9, 10)], pad_id=0)
    assert ids == [[5, 6, 7], [0, 0, 8], [0, 9, 10]]
    assert mask == [[1, 1, 1], [0, 0, 1], [0, 1, 1]]


@pytest.mark.parametrize("prompts, message", [([], "no prompts"), ([[1], []], "an empty prompt")])
def test_left_pad_refuses_what_cannot_be_generated_from(prompts, message):
    with pytest.raises(ValueError, match=message):
        left_pad(prompts, pad_id=0)


@pytest.mark.parametrize("tokens, eos, expected", [
    ([4, 2, 9, 2], 2, ([4, 2], True)),  # the first end token is kept, what follows (pads, more text) dropped
    ([4, 5, 9], 2, ([4, 5, 9], False)),  # no end token: cut at the limit
    ([2], 2, ([2], True)),
    ([4, 2], None, ([4, 2], False)),  # a tokenizer without an end token never stops
])
def test_cut_at_eos(tokens, eos, expected):
    assert cut_at_eos(tokens, eos) == expected
