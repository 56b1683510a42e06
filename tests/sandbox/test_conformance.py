"""The Sandbox Protocol's behaviour, the same on every backend (docker, podman and local)."""

from __future__ import annotations

import time

import pytest

from swe_srl.errors import SandboxError
from swe_srl.sandbox.base import SandboxLimits

BACKENDS = [pytest.param("docker", marks=pytest.mark.docker), pytest.param("podman", marks=pytest.mark.podman),
            "local"]
pytestmark = pytest.mark.parametrize("backend", BACKENDS)


def test_cd_and_exports_persist_and_the_agent_is_not_root(make_sandbox, backend):
    sandbox = make_sandbox(backend)
    first = sandbox.run("pwd; whoami; id -u")
    assert first.output.split() == ["/testbed", "agent", "1000"]
    assert first.exit_code == 0 and not first.timed_out and not first.truncated
    assert sandbox.run("cd pkg && export GREETING='hi there'; LOCAL_ONLY=1").exit_code == 0
    assert sandbox.run('pwd; echo "$GREETING"; echo "${LOCAL_ONLY:-unset}"').output == "/testbed/pkg\nhi there\n1\n"
    assert sandbox.run("bash -c 'echo $GREETING'").output == "hi there\n"  # exported to children


def test_exit_codes_stderr_and_stdin(make_sandbox, backend):
    sandbox = make_sandbox(backend)
    obs = sandbox.run("echo out; echo err >&2; exit_with() { return $1; }; exit_with 7")
    assert obs.exit_code == 7
    assert obs.output == "out\nerr\n"  # interleaved in order, stderr included
    assert sandbox.run("false").exit_code == 1
    assert sandbox.run("cat").output == ""  # reads /dev/null, never the session's own input
    assert sandbox.run("read -r line; echo \"[$line]\" $?").output == "[] 1\n"
    assert sandbox.run("printf 'no newline'").output == "no newline"
    assert sandbox.run("echo 'é ü \\ \"q\"' $'tab\\there'").output == 'é ü \\ "q" tab\there\n'
    assert sandbox.run("cat <<'EOF'\nline one\n  line two\nEOF").output == "line one\n  line two\n"


def test_syntax_errors_and_exit_keep_the_session(make_sandbox, backend):
    sandbox = make_sandbox(backend)
    sandbox.run("cd tests; export KEEP=yes")
    unbalanced = sandbox.run("echo 'unbalanced")
    assert unbalanced.exit_code == 2 and "unexpected EOF" in unbalanced.output
    broken = sandbox.run("if then fi")
    assert broken.exit_code == 2 and "syntax error" in broken.output
    assert sandbox.run("echo $KEEP; pwd").output == "yes\n/testbed/tests\n"
    gone = sandbox.run("exit 5")
    assert gone.exit_code == 5 and "shell exited" in gone.output
    assert sandbox.run("echo $KEEP; pwd").output == "yes\n/testbed/tests\n"


def test_timeout_kills_the_command_tree_and_the_session_goes_on(make_sandbox, backend):
    sandbox = make_sandbox(backend)
    sandbox.run("cd pkg; export KEEP=1")
    start = time.monotonic()
    obs = sandbox.run("sleep 60 & (sleep 61; echo never) ; echo never", timeout=1)
    assert obs.timed_out and obs.exit_code is None
    assert "never" not in obs.output and "timed out" in obs.output
    assert time.monotonic() - start < 8
    assert sandbox.run("ps -eo args | grep -c '^sleep 6'").output == "0\n"  # none left, background ones too
    busy = sandbox.run("while :; do :; done", timeout=1)  # busy in the shell itself: it is replaced
    assert busy.timed_out
    assert sandbox.run("echo $KEEP; pwd").output == "1\n/testbed/pkg\n"


def test_output_cap_keeps_head_and_tail(make_sandbox, backend):
    sandbox = make_sandbox(backend, SandboxLimits(timeout=20, output_cap=1000, memory="512m", pids=128))
    obs = sandbox.run("seq 1 100000")
    assert obs.truncated and obs.exit_code == 0
    assert obs.output.startswith("1\n2\n3\n") and obs.output.endswith("99999\n100000\n")
    assert "omitted" in obs.output and len(obs.output.encode()) < 1200
    small = sandbox.run("seq 1 3")
    assert small.output == "1\n2\n3\n" and not small.truncated


def test_read_write_any_bytes_and_new_folders(make_sandbox, backend, tiny_files):
    sandbox = make_sandbox(backend)
    assert sandbox.read_file("pkg/__init__.py") == tiny_files["pkg/__init__.py"]
    assert sandbox.read_file("/testbed/README.md") == tiny_files["README.md"]
    big = "".join(f"line {i} ünïcode\n" for i in range(60_000))  # ~1.3 MB, past any output cap
    sandbox.write_file("deep/new/dir/big.txt", big)
    assert sandbox.read_file("deep/new/dir/big.txt") == big
    assert sandbox.run("stat -c %U deep/new/dir/big.txt deep").output == "agent\nagent\n"
    sandbox.write_file("pkg/__init__.py", "")
    assert sandbox.read_file("pkg/__init__.py") == ""
    with pytest.raises(SandboxError):
        sandbox.read_file("does/not/exist.py")


def test_diff_includes_new_files_and_reset_restores_base(make_sandbox, backend, tiny_files):
    sandbox = make_sandbox(backend)
    assert sandbox.diff() == ""
    sandbox.write_file("pkg/__init__.py", "def add(a, b):\n    return a + b\n")
    sandbox.run("mkdir -p docs && echo notes > docs/new.md && git rm -q README.md && cd docs")
    sandbox.run("python3 -c 'import pkg' 2>/dev/null; mkdir -p pkg/__pycache__ && touch pkg/__pycache__/x.pyc", )
    patch = sandbox.diff()
    assert "-    return a - b\n+    return a + b\n" in patch
    assert "diff --git a/docs/new.md b/docs/new.md\nnew file mode 100644" in patch
    assert "deleted file mode" in patch and "README.md" in patch
    assert "__pycache__" not in patch
    assert sandbox.run("git -C /testbed status --short -uall | grep -c '^?? docs/new.md'").output == "1\n"  # the real index is untouched
    sandbox.run("export GONE=1; sleep 300 &")
    start = time.monotonic()
    sandbox.reset()
    assert time.monotonic() - start < 5
    assert sandbox.diff() == ""
    assert sandbox.run("pwd; echo ${GONE:-unset}; git status --short; ls docs 2>&1 | wc -l").output == \
        "/testbed\nunset\n1\n"
    assert sandbox.run("ps -eo args | grep -c '^sleep 300'").output == "0\n"
    assert sandbox.read_file("README.md") == tiny_files["README.md"]


def test_close_is_final_and_idempotent(make_sandbox, backend):
    sandbox = make_sandbox(backend)
    assert sandbox.run("true").exit_code == 0
    sandbox.close()
    sandbox.close()
    with pytest.raises(SandboxError):
        sandbox.run("true")
