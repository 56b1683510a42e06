"""The sandbox backend is a typed choice: a name picks a class, and the commands that start sandboxes take it."""

from __future__ import annotations

import pytest

from swe_srl.cli import build_parser
from swe_srl.errors import ConfigError
from swe_srl.sandbox.backends import BACKENDS, DEFAULT_BACKEND, backend


def test_each_name_picks_its_class_and_an_unknown_one_is_refused():
    from swe_srl.sandbox.docker import DockerSandbox
    from swe_srl.sandbox.local import LocalSandbox
    from swe_srl.sandbox.podman import PodmanSandbox

    assert BACKENDS == ("docker", "podman", "local") and DEFAULT_BACKEND == "docker"
    assert backend("docker") is DockerSandbox and backend("local") is LocalSandbox
    assert backend("podman") is PodmanSandbox and issubclass(PodmanSandbox, DockerSandbox)
    with pytest.raises(ConfigError, match="'apptainer'; use one of docker, podman, local"):
        backend("apptainer")


@pytest.mark.parametrize("command", [["collect", "--out", "o"], ["eval", "--model", "m", "--out", "o"],
                                     ["tasks", "synthesize", "toolz==0.12.1", "--out", "o"]])
def test_every_command_that_starts_sandboxes_takes_the_flag(command, capsys):
    parser = build_parser()
    assert parser.parse_args([*command, "--sandbox", "local"]).sandbox == "local"
    assert parser.parse_args([*command, "--sandbox", "podman"]).sandbox == "podman"
    with pytest.raises(SystemExit):
        parser.parse_args([*command, "--sandbox", "apptainer"])
    assert "invalid choice: 'apptainer'" in capsys.readouterr().err


def test_synthesis_refuses_a_backend_it_cannot_validate_on(tmp_path):
    from swe_srl.config.sections import SandboxConfig
    from swe_srl.config.synthesize import SynthConfig, SynthesizeConfig

    assert SynthesizeConfig(SynthConfig(out=tmp_path)).sandbox.backend == "docker"
    with pytest.raises(ConfigError, match="'local'.*only the docker backend runs"):
        SynthesizeConfig(SynthConfig(out=tmp_path), SandboxConfig(backend="local"))
