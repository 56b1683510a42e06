"""The tiny model, built once per session, as a local client and behind a loopback HTTP server."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def tiny_client():
    pytest.importorskip("torch")
    from swe_srl.agent.local_client import TransformersClient
    from swe_srl.train.tiny import tiny_model, tiny_tokenizer

    tokenizer = tiny_tokenizer()
    return TransformersClient(tiny_model(tokenizer), tokenizer, name="tiny", max_new_tokens=24)


@pytest.fixture()
def tiny_server(tiny_client):
    from tests.agent.tiny_server import TinyServer

    server = TinyServer(tiny_client)
    yield server
    server.close()
