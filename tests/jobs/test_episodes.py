"""RLVR's episodes: token-exact turns, one batched call per turn, masked infrastructure failures, limits."""

from __future__ import annotations

from dataclasses import replace

import pytest

pytest.importorskip("torch")

from swe_srl.agent.loop import CONTEXT_LIMIT, SUBMITTED, TIME_LIMIT, AgentConfig  # noqa: E402
from swe_srl.jobs.episodes import GRADER, SANDBOX_LOST, SANDBOX_START, EpisodeSettings, run_episodes  # noqa: E402
from swe_srl.recipes.train_rlvr import EpisodeGroup, TokenPolicy, episode_rows  # noqa: E402
from swe_srl.train.data import chat_prompt_ids  # noqa: E402
from swe_srl.train.generate_hf import TransformersBackend  # noqa: E402
from swe_srl.train.rollout import Completion, Sampling  # noqa: E402
from swe_srl.train.tiny import tiny_model, tiny_tokenizer  # noqa: E402

from swe_srl.actions import Action  # noqa: E402
from tests.agent.fakes import think  # noqa: E402
from tests.jobs.key_world import WORDS, KeyWorld, key_of, key_task  # noqa: E402


@pytest.fixture(scope="module")
def tokenizer():
    return tiny_tokenizer()


class ScriptedPolicy:
    """Solves the key world from what each prompt shows, in token ids; records every generate call."""

    def __init__(self, tokenizer) -> None:
        self.tokenizer = tokenizer
        self.calls: list[tuple[list[tuple[int, ...]], list[Completion]]] = []

    def prompt_ids(self, messages):
        return chat_prompt_ids(self.tokenizer, [{"role": m.role, "content": m.content} for m in messages], "")

    def count_tokens(self, texts):
        return [len(self.tokenizer(t, add_special_tokens=False)["input_ids"]) for t in texts]

    def generate(self, prompts):
        out = []
        for ids in prompts:
            text = self.tokenizer.decode(ids)
            seen = [w for w in WORDS if w in text]
            action = (Action.submit() if "echo" in text else Action.bash(f"echo {seen[0]} > answer.txt") if seen
                      else Action.bash("cat key.txt"))
            reply = think(action)
            token_ids = tuple(self.tokenizer(reply, add_special_tokens=False)["input_ids"]) + (self.tokenizer.eos_token_id,)
            out.append(Completion(token_ids, reply, True))
        self.calls.append((list(prompts), out))
        return out


def settings(**overrides) -> EpisodeSettings:
    values = dict(agent=AgentConfig(max_steps=6), episode_seconds=60.0, context_tokens=0, response_prefix="", workers=4)
    return EpisodeSettings(**{**values, **overrides})


def test_turns_are_the_ids_the_policy_read_and_sampled_one_batched_call_per_turn(tokenizer) -> None:
    policy, world = ScriptedPolicy(tokenizer), KeyWorld()
    tasks = [key_task(0), key_task(1)]
    groups = run_episodes(tasks, 2, policy, world, settings(), "t")
    episodes = [e for group in groups for e in group]
    assert [e.task_id for e in episodes] == ["key-0", "key-0", "key-1", "key-1"]
    assert all(e.outcome == "resolved" and e.reward == 1.0 and e.submitted for e in episodes)
    # cat, echo, submit: three turns, each ONE generate call holding every live episode's prompt
    assert len(policy.calls) == 3 and all(len(prompts) == 4 for prompts, _ in policy.calls)
    for t, (prompts, completions) in enumerate(policy.calls):
        for episode, prompt, completion in zip(episodes, prompts, completions):
            assert episode.turns[t].prompt_ids == prompt
            assert episode.turns[t].completion_ids == completion.token_ids
    for episode, task in zip(episodes, [tasks[0], tasks[0], tasks[1], tasks[1]]):
        # the observation reached the next prompt as it was fed: the key, tokenized inside the prompt's ids
        assert key_of(task) in tokenizer.decode(episode.turns[1].prompt_ids)
        assert episode.trajectory.metadata["stop_reason"] == SUBMITTED
    assert [patch for _, patch, _ in world.graded] == [f"answer.txt: {key_of(t)}" for t in tasks for _ in range(2)]
    assert all(getattr(w, "closed", False) for w in world.started)


def test_update_rows_are_the_turns_first_turns_of_a_group_together(tokenizer) -> None:
    policy = ScriptedPolicy(tokenizer)
    groups = run_episodes([key_task(2)], 3, policy, KeyWorld(), settings(), "t")
    group = EpisodeGroup("key-2", tuple(groups[0]))
    # make the rewards differ so the advantages do
    varied = EpisodeGroup("key-2", (group.episodes[0],) + tuple(replace(e, reward=0.0) for e in group.episodes[1:]))
    pairs, advantages = episode_rows([varied], 1e-6)
    assert len(pairs) == 9
    firsts = pairs[:3]
    assert len({tuple(p) for p, _ in firsts}) == 1  # one shared prompt, packed once
    expected = [(t.prompt_ids, t.completion_ids) for e in varied.episodes for t in e.turns[:1]]
    expected += [(t.prompt_ids, t.completion_ids) for e in varied.episodes for t in e.turns[1:]]
    assert pairs == expected
    assert advantages[0] > 0 > advantages[1] and advantages[1] == advantages[2]


def test_infrastructure_failures_are_masked_counted_and_left_out(tokenizer) -> None:
    world = KeyWorld(fail_starts={("key-0", 0)}, fail_commands={("key-0", 1)}, fail_grades={("key-1", 0)})
    policy = ScriptedPolicy(tokenizer)
    groups = run_episodes([key_task(0), key_task(1)], 2, policy, world, settings(), "t")
    (a, b), (c, d) = groups
    assert (a.masked, a.outcome, a.turns, a.trajectory) == (True, SANDBOX_START, (), None)
    assert (b.masked, b.outcome, len(b.turns)) == (True, SANDBOX_LOST, 1)
    assert (c.masked, c.outcome) == (True, GRADER)
    assert (d.masked, d.outcome, d.reward) == (False, "resolved", 1.0)
    assert len(policy.calls[0][0]) == 3  # the episode whose sandbox never started asked for nothing
    assert all(getattr(w, "closed", False) for w in world.started)
    made = [EpisodeGroup(g[0].task_id, tuple(g)) for g in groups]
    assert [len(g.scored) for g in made] == [0, 1]
    assert [g.rewards for g in made] == [(0.0,), (0.0,)]  # under two scored episodes: no signal
    pairs, _ = episode_rows(made, 1e-6)
    assert pairs == [(t.prompt_ids, t.completion_ids) for t in d.turns]


def test_an_episode_over_the_context_ends_flagged_and_is_graded(tokenizer) -> None:
    policy = ScriptedPolicy(tokenizer)
    groups = run_episodes([key_task(3)], 2, policy, KeyWorld(), settings(context_tokens=1), "t")
    assert policy.calls == []
    for episode in groups[0]:
        assert episode.context_overflow and not episode.masked and episode.turns == ()
        assert episode.trajectory.metadata["stop_reason"] == CONTEXT_LIMIT
        assert episode.outcome == "empty_patch"


def test_context_cut_after_the_first_turn(tokenizer) -> None:
    probe = ScriptedPolicy(tokenizer)
    run_episodes([key_task(4)], 1, probe, KeyWorld(), settings(), "t")
    room = len(probe.calls[0][0][0])  # the first prompt's length
    policy, world = ScriptedPolicy(tokenizer), KeyWorld()
    (episode,) = run_episodes([key_task(4)], 1, policy, world, settings(context_tokens=room), "t")[0]
    assert len(episode.turns) == 1 and episode.context_overflow
    assert episode.outcome == "empty_patch"  # graded as it stands: cat ran, nothing written


def test_the_wall_clock_limit_ends_an_episode(tokenizer) -> None:
    policy = ScriptedPolicy(tokenizer)
    (episode,) = run_episodes([key_task(5)], 1, policy, KeyWorld(), settings(episode_seconds=1e-9), "t")[0]
    assert episode.trajectory.metadata["stop_reason"] == TIME_LIMIT and episode.turns == ()
    assert not episode.masked and episode.outcome == "empty_patch" and policy.calls == []


class RecordingBackend:
    """The real transformers backend, with every call's inputs and outputs kept."""

    def __init__(self, inner: TransformersBackend) -> None:
        self.inner, self.calls = inner, []

    def generate(self, prompts, n, sampling):
        out = self.inner.generate(prompts, n, sampling)
        self.calls.append(([tuple(p) for p in prompts], [[c.token_ids for c in cs] for cs in out]))
        return out


def test_with_the_real_backend_turns_are_its_inputs_and_outputs(tokenizer) -> None:
    model = tiny_model(tokenizer, seed=3)
    backend = RecordingBackend(TransformersBackend(model, tokenizer, batch_size=8))
    policy = TokenPolicy(backend, tokenizer, "<think>\n", Sampling(temperature=1.0, max_new_tokens=12))
    groups = run_episodes([key_task(6), key_task(7)], 2, policy, KeyWorld(),
                          settings(agent=AgentConfig(max_steps=2)), "t")
    episodes = [e for g in groups for e in g]
    assert backend.calls and all(len(e.turns) >= 1 for e in episodes)
    for t, (prompts, outputs) in enumerate(backend.calls):
        live = [e for e in episodes if len(e.turns) > t]
        assert [e.turns[t].prompt_ids for e in live] == prompts
        assert [(e.turns[t].completion_ids,) for e in live] == [tuple(o) for o in outputs]
    for e in episodes:  # the response prefix is part of every prompt the policy read
        assert tokenizer.decode(e.turns[0].prompt_ids).endswith("<think>\n")
