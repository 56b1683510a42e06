"""Reward throughput: scored completions per second on realistic action pairs.

    .venv/bin/python benchmarks/reward_throughput.py [--prompts 250] [--group 8]

GRPO scores G rollouts against each expert action, so the reward scores a group at once
(score_group: difflib indexes the expert text once). Baselines, measured in the same run: one
pair at a time (score_completion), difflib's ratio alone on the same strings, and difflib with
its default autojunk=True (faster, but wrong for long edits). Ours includes parsing each
completion and its canonical rendering.
"""

from __future__ import annotations

import argparse
import random
import time
from difflib import SequenceMatcher

from swe_srl.actions import Action
from swe_srl.reward import score_completion, score_group

NAMES = ["parse", "config", "utils", "models", "fields", "query", "render", "cache"]


def code_block(rng: random.Random, lines: int) -> str:
    body = []
    for i in range(lines):
        name = rng.choice(NAMES)
        body.append(rng.choice([
            f"    value = {name}(items[{i}], default=None)\n",
            f"    if not {name}:\n        raise ValueError('empty {name}')\n",
            f"    for key, item in enumerate({name}):\n        result[key] = item.strip()\n",
            f"    return [x for x in {name} if x is not None]\n",
        ]))
    return "".join(body)


def action(rng: random.Random) -> Action:
    kind = rng.random()
    name = rng.choice(NAMES)
    if kind < 0.5:
        return Action.bash(rng.choice([f"grep -rn 'def {name}' src/", f"pytest -x tests/test_{name}.py -q",
                                       f"cat src/{name}.py", f"python -c 'import {name}; print({name}.__file__)'"]))
    if kind < 0.7:
        return Action.editor("view", f"/testbed/src/{name}.py", view_range=[1, rng.randint(20, 200)])
    old = code_block(rng, rng.randint(3, 15))
    return Action.editor("str_replace", f"/testbed/src/{name}.py", old_str=old, new_str=code_block(rng, rng.randint(3, 15)))


def perturb(rng: random.Random, a: Action) -> Action:
    """A plausible student guess: the same action, a near miss, or another action."""
    roll = rng.random()
    if roll < 0.2:
        return a
    if roll < 0.7 and a.get("new_str") is not None:
        new = a.get("new_str")
        cut = rng.randrange(len(new))
        return Action.editor("str_replace", a.get("path"), old_str=a.get("old_str"), new_str=new[:cut] + "  # fix\n" + new[cut:])
    return action(rng)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--prompts", type=int, default=250, help="expert actions")
    parser.add_argument("--group", type=int, default=8, help="rollouts per expert action (GRPO's G)")
    args = parser.parse_args()
    rng = random.Random(0)
    experts = [action(rng) for _ in range(args.prompts)]
    groups = [[perturb(rng, e) for _ in range(args.group)] for e in experts]
    completions = [[f"<think>\nlet me look\n</think>\n{g.render()}" for g in group] for group in groups]
    expert_texts = [e.render() for e in experts]
    pairs = args.prompts * args.group
    mean_len = sum(map(len, expert_texts)) / len(expert_texts)

    def timed(fn) -> float:
        start = time.perf_counter()
        fn()
        return pairs / (time.perf_counter() - start)

    grouped = timed(lambda: [score_group(cs, e) for cs, e in zip(completions, experts)])
    each = timed(lambda: [score_completion(c, e) for cs, e in zip(completions, experts) for c in cs])
    plain = timed(lambda: [SequenceMatcher(None, g.render(), t, autojunk=False).ratio()
                           for group, t in zip(groups, expert_texts) for g in group])
    junk = timed(lambda: [SequenceMatcher(None, g.render(), t).ratio() for group, t in zip(groups, expert_texts) for g in group])
    print(f"{args.prompts} expert actions x {args.group} rollouts = {pairs} pairs, mean expert action {mean_len:.0f} chars")
    print(f"score_group (one expert index per group) : {grouped:8.0f} pairs/s  (1.00x)")
    print(f"score_completion, one pair at a time      : {each:8.0f} pairs/s  ({each / grouped:.2f}x of grouped)")
    print(f"difflib ratio alone, autojunk=False       : {plain:8.0f} pairs/s  ({plain / grouped:.2f}x of grouped)")
    print(f"difflib ratio alone, autojunk=True        : {junk:8.0f} pairs/s  ({junk / grouped:.2f}x; not our metric)")
    print(f"a paper-size batch (512 completions) costs {512 / grouped:.2f} s of reward")


if __name__ == "__main__":
    main()
