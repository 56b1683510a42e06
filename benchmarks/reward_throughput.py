"""Reward throughput: scored completions per second on realistic action pairs.

    .venv/bin/python benchmarks/reward_throughput.py [--pairs 2000]

Baseline, measured in the same run: difflib's ratio alone on the same canonical strings (what
any implementation must at least pay), and difflib with its default autojunk=True (faster, but
wrong for long edits). Our number includes parsing the completion and canonical rendering.
"""

from __future__ import annotations

import argparse
import random
import time
from difflib import SequenceMatcher

from swe_srl.actions import Action
from swe_srl.reward import score_completion

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
    parser.add_argument("--pairs", type=int, default=2000)
    args = parser.parse_args()
    rng = random.Random(0)
    experts = [action(rng) for _ in range(args.pairs)]
    guesses = [perturb(rng, e) for e in experts]
    completions = [f"<think>\nlet me look\n</think>\n{g.render()}" for g in guesses]
    expert_texts = [e.render() for e in experts]
    guess_texts = [g.render() for g in guesses]
    mean_len = sum(map(len, expert_texts)) / len(expert_texts)

    def timed(fn) -> float:
        start = time.perf_counter()
        fn()
        return args.pairs / (time.perf_counter() - start)

    ours = timed(lambda: [score_completion(c, e) for c, e in zip(completions, experts)])
    plain = timed(lambda: [SequenceMatcher(None, g, e, autojunk=False).ratio() for g, e in zip(guess_texts, expert_texts)])
    junk = timed(lambda: [SequenceMatcher(None, g, e).ratio() for g, e in zip(guess_texts, expert_texts)])
    print(f"{args.pairs} pairs, mean expert action length {mean_len:.0f} chars")
    print(f"swe_srl.reward.score_completion : {ours:10.0f} pairs/s  (1.00x)")
    print(f"difflib ratio, autojunk=False   : {plain:10.0f} pairs/s  ({plain / ours:.2f}x of ours)")
    print(f"difflib ratio, autojunk=True    : {junk:10.0f} pairs/s  ({junk / ours:.2f}x of ours; not our metric)")


if __name__ == "__main__":
    main()
