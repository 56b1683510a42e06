"""A pytest plugin run inside validation containers: which functions under /testbed each test calls.

Standalone on purpose (it is copied into the container and imported by pytest with `-p`; it must
not import swe_srl). Writes {nodeid: ["path::qualname", ...]} as JSON to $SWE_SRL_CALLS_OUT.
A profile hook (call events only) costs far less than a line tracer.
"""

import json
import os
import sys
import threading

import pytest

_ROOT = os.environ.get("SWE_SRL_CALLS_ROOT", "/testbed") + "/"
_calls = {}
_current = None
_names = {}


def _profile(frame, event, arg):
    if event != "call" or _current is None:
        return
    code = frame.f_code
    name = _names.get(code)
    if name is None:
        path = code.co_filename
        name = f"{path[len(_ROOT):]}::{code.co_qualname}" if path.startswith(_ROOT) else ""
        _names[code] = name
    if name:
        _current.add(name)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    global _current
    _current = _calls.setdefault(item.nodeid, set())
    threading.setprofile(_profile)
    sys.setprofile(_profile)
    try:
        yield
    finally:
        sys.setprofile(None)
        threading.setprofile(None)
        _current = None


def pytest_sessionfinish(session):
    out = os.environ.get("SWE_SRL_CALLS_OUT")
    if out:
        with open(out, "w") as handle:
            json.dump({k: sorted(v) for k, v in _calls.items()}, handle)
