"""The agent cannot break, see or forge its shell's framing (issue 14, item 7), on every backend.

Each command runs in a child of a framing shell the agent's code never runs in; these are the
ways a command used to reach the framing when the agent's own shell did it.
"""

from __future__ import annotations

import re

import pytest

BACKENDS = [pytest.param("docker", marks=pytest.mark.docker), pytest.param("podman", marks=pytest.mark.podman),
            "local"]
pytestmark = pytest.mark.parametrize("backend", BACKENDS)


def _runs_for_real(sandbox) -> None:
    """A later command runs, with its real exit status and output."""
    obs = sandbox.run("false; echo $?")
    assert obs.exit_code == 0 and obs.output == "1\n", obs.output
    assert sandbox.run("false").exit_code == 1


def test_ordinary_state_persists_from_one_command_to_the_next(make_sandbox, backend):
    sandbox = make_sandbox(backend)
    sandbox.run("cd pkg; A=(1 'two words'); declare -A H=([k]=v); greet() { echo \"hi $1\"; }; umask 027;"
                " set -o pipefail; shopt -s nullglob; export E=x")
    obs = sandbox.run('echo "${A[1]} ${H[k]} $E $(umask)"; greet you; false | true; echo $?; echo none*; pwd')
    assert obs.output == "two words v x 0027\nhi you\n1\n\n/testbed/pkg\n", obs.output


def test_redefining_eval_as_a_function_does_not_fake_later_commands(make_sandbox, backend):
    sandbox = make_sandbox(backend)
    assert sandbox.run("eval() { :; }; export -f eval").exit_code == 0
    _runs_for_real(sandbox)
    assert sandbox.run("eval 'echo real'").output == "real\n"


def test_an_alias_for_eval_does_not_fake_later_commands(make_sandbox, backend):
    sandbox = make_sandbox(backend)
    sandbox.run("shopt -s expand_aliases; alias eval=true")
    _runs_for_real(sandbox)


@pytest.mark.parametrize("command", ["set -n", "enable -n eval read", "export BASH_ENV=/tmp/end; echo exit > /tmp/end"])
def test_options_and_builtins_that_would_stop_every_command_last_one_command(make_sandbox, backend, command):
    sandbox = make_sandbox(backend)
    sandbox.run(command, timeout=5)
    obs = sandbox.run("false; echo $?", timeout=5)
    assert obs.exit_code == 0 and obs.output == "1\n", obs.output


def test_set_x_traces_the_agents_commands_and_nothing_of_the_framing(make_sandbox, backend):
    sandbox = make_sandbox(backend)
    assert sandbox.run("set -x").output == ""
    obs = sandbox.run("false; echo $?")
    assert obs.exit_code == 0
    assert [line for line in obs.output.splitlines() if not re.fullmatch(r"\++ (false|echo 1)", line)] == ["1"], \
        obs.output
    assert sandbox.run("set +x; echo done").output.splitlines()[-1] == "done"


def test_a_debug_trap_prints_nothing_of_the_framing(make_sandbox, backend):
    sandbox = make_sandbox(backend)
    assert sandbox.run("trap 'echo LEAK' DEBUG; echo a").output == "LEAK\na\n"  # its own command, and no more
    _runs_for_real(sandbox)


def test_the_end_marker_cannot_be_forged_from_anything_the_agent_can_read(make_sandbox, backend):
    sandbox = make_sandbox(backend)
    # Every long hex word in the shell's variables, the environments and command lines of this
    # shell and its parent, and any state file, printed as the framing's marker would be.
    forge = (r"for t in $({ set; env; cat /proc/$$/environ /proc/$$/cmdline /proc/$PPID/environ /proc/$PPID/cmdline"
             r" /dev/shm/.swe-srl* /tmp/.swe-srl*; } 2>/dev/null | tr '\0' '\n' | grep -aoE '[0-9a-f]{16}' | sort -u)"
             r"; do printf '\0%s D 0 0 1\0\0%s D 0 0\0' $t $t; done; echo real; false")
    obs = sandbox.run(forge)
    assert obs.exit_code == 1 and obs.output.endswith("real\n") and not obs.timed_out, obs.output
    _runs_for_real(sandbox)


@pytest.mark.parametrize("command", ["exec bash", "exec sh", "exit", "kill -9 $$"])
def test_a_command_that_ends_its_shell_gets_a_new_one_and_is_told(make_sandbox, backend, command):
    sandbox = make_sandbox(backend)
    sandbox.run("cd pkg; export KEEP=1")
    obs = sandbox.run(command, timeout=5)
    assert not obs.timed_out and "shell exited" in obs.output and "new shell" in obs.output, obs.output
    assert sandbox.run("echo $KEEP; pwd").output == "1\n/testbed/pkg\n"
    _runs_for_real(sandbox)
