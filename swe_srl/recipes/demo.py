"""The demo recipe: the whole pipeline on the bundled default, small enough for a CPU.

1. collect: the bundled expert trajectories are re-executed (replay teacher) in each task's
   Docker sandbox through the agent's own tools, and every final diff is graded by the official
   swebench harness (the gold fixes are str_replace_editor calls in those trajectories);
2. data: a tiny byte-level BPE tokenizer is trained on those runs' text, with every tag of the
   action format (``<think>``, ``<function=...>``, ``<parameter=...>`` and their closings) one
   token, and the graded runs become step-wise SRL examples counted with it (a one-paragraph system
   prompt, the issue and the last expert step, observations cut short: prompts of ~450 tokens;
   actions over 64 tokens left out);
3. train: a randomly initialised Qwen2 of ~0.26M parameters gets SFT steps on those
   examples (the paper's baseline), enough to learn the action format only in part: when SRL
   starts, half or more of the sampled replies break it and score -1. Then SRL steps with GRPO and
   dynamic sampling on the similarity reward finish the format and move the actions towards the
   expert's. The rule the demo checks (``SrlCheck``): the reward mean of the last logged SRL steps
   is at least 0.2 above the first ones, and format failures end below 0.3. After a full SFT (250
   steps) SRL had too little left to do: at seed 0 the rule held on the recorded runs but on
   neither of two fresh collects. With 120 it held in 14 of 15 runs (those three x five seeds;
   rise +0.57 to +1.17, format failures ending at 0.05 to 0.22); the miss was a warm-up that left
   97% of the replies broken, more than 60 SRL steps undo. The presets ``demo-sft`` and
   ``demo-srl`` hold the settings;
4. eval: the trained model runs as an agent on the bundled tasks in both settings (end-to-end
   and oracle file edit), graded by the harness. These are the tasks it trained on, and a model
   this small is not expected to solve one end to end: the stage shows the loop and the grading
   working, not a capability.
"""

from __future__ import annotations

import itertools
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

from swe_srl.config import load_config
from swe_srl.dataset import BuildSummary, build_dataset
from swe_srl.formats.importing import import_paths, read_store
from swe_srl.recipes.collect import CollectSummary, collect, replay_teacher
from swe_srl.stepwise import StepwiseConfig
from swe_srl.tasks.bundled import bundled_tasks
from swe_srl.tasks.environments import ENVIRONMENTS_DIR

BUNDLED_TRAJECTORIES = ENVIRONMENTS_DIR.parent / "trajectories"
SAMPLES = (0, 1)  # two recorded runs per task
SFT_STEPS = 120  # the format half learned: SRL has it to finish (see the module's docstring)
SRL_STEPS = 60
EVAL_MAX_STEPS = 3  # agent steps per task for the tiny model
# The default system prompt's tool manual is ~350 tokens of the tiny tokenizer, half of every prompt: the
# demo's student gets the format and tools in one paragraph instead.
SYSTEM_PROMPT = (
    "Fix the issue in the repository at /testbed, one step at a time. Each turn: reason inside <think> ... "
    "</think>, then give one action: <function=bash> with <parameter=command>, <function=str_replace_editor> "
    "with <parameter=command> (view, create, str_replace, insert) and <parameter=path>, or <function=submit>."
)
# Short prompts (the issue, the last expert step, its output cut to a few lines) and short actions:
# an action over 64 tokens (a whole file created, a long edit) is beyond a model this small.
STEPWISE = StepwiseConfig(context_steps=1, max_prompt_tokens=1024, max_observation_chars=200, max_target_tokens=64,
                          system_prompt=SYSTEM_PROMPT)
VOCAB_SIZE = 2048  # the tiny tokenizer's BPE vocabulary, trained on the collected runs
HIDDEN_SIZE = 64  # the tiny model: two layers of this width, about 0.26M parameters (half of them embeddings)
# The rule: the mean of the last RULE_WINDOW logged SRL steps' rewards is at least RULE_RISE above
# the first RULE_WINDOW's, and their format failure rate is below RULE_FORMAT_FAILURES.
RULE_WINDOW = 4  # one step samples only 4 prompts: its reward mean swings by ±0.2
RULE_RISE = 0.2
RULE_FORMAT_FAILURES = 0.3

# (stage, done, total or None when unknown, a note such as the current loss): one call per unit of work.
Progress = Callable[[str, int, "int | None", str], None]


def _no_progress(stage: str, done: int, total: int | None, note: str) -> None:
    return None


@dataclass(frozen=True)
class SrlCheck:
    """Did SRL move the student: the rule above, on the logged SRL steps."""

    first_reward: float  # mean reward of the first RULE_WINDOW logged steps
    last_reward: float  # mean reward of the last RULE_WINDOW logged steps
    first_format_failures: float  # mean format failure rate of the first RULE_WINDOW logged steps
    last_format_failures: float  # mean format failure rate of the last RULE_WINDOW logged steps

    @classmethod
    def of(cls, history: Sequence[dict[str, Any]]) -> "SrlCheck | None":
        """The check on ``history`` (SRL's logged records); None with fewer than two windows of steps."""
        if len(history) < 2 * RULE_WINDOW:
            return None

        def mean(records: Sequence[dict[str, Any]], key: str) -> float:
            return sum(r[key] for r in records) / len(records)

        first, last = history[:RULE_WINDOW], history[-RULE_WINDOW:]
        return cls(mean(first, "reward_mean"), mean(last, "reward_mean"),
                   mean(first, "format_failure_rate"), mean(last, "format_failure_rate"))

    @property
    def rise(self) -> float:
        return self.last_reward - self.first_reward

    @property
    def met(self) -> bool:
        return self.rise >= RULE_RISE and self.last_format_failures < RULE_FORMAT_FAILURES


@dataclass
class Student:
    """The tiny model's training on the demo's data: stages 2 and 3."""

    data: BuildSummary
    sft_loss: tuple[float, float] | None  # first and last; None when a rerun had nothing left to do
    srl_history: list[dict[str, Any]]
    final_model: Path

    @property
    def check(self) -> SrlCheck | None:
        return SrlCheck.of(self.srl_history)


@dataclass
class DemoResult:
    collected: CollectSummary | None = None
    student: Student | None = None
    evaluation: Any = None  # EvalReport
    workdir: Path = Path(".")

    @property
    def ok(self) -> bool:
        """The pipeline ran through, every expert run resolved its task, and every eval run finished."""
        return (
            self.collected is not None
            and self.collected.total == self.collected.resolved > 0
            and self.evaluation is not None
            and self.evaluation.failed == 0
        )


def run_demo(workdir: Path, say: Callable[[str], None] = lambda _: None, progress: Progress = _no_progress) -> DemoResult:
    """Run every stage into ``workdir``; ``say`` hears one line per stage, ``progress`` each unit of work.

    Reruns resume.
    """
    from swe_srl.agent.factory import client_factory
    from swe_srl.agent.identity import model_identity
    from swe_srl.agent.loop import AgentConfig
    from swe_srl.config.sections import ClientConfig
    from swe_srl.evaluate.oracle import SETTINGS
    from swe_srl.recipes.evaluate import evaluate

    workdir.mkdir(parents=True, exist_ok=True)
    result = DemoResult(workdir=workdir)
    tasks = bundled_tasks()

    say(f"1/4 collect: replaying {len(tasks) * len(SAMPLES)} expert runs in Docker sandboxes, graded by swebench")
    teacher = replay_teacher(import_paths([BUNDLED_TRAJECTORIES]))
    result.collected = collect(tasks, teacher, workdir / "collect", samples=SAMPLES, workers=2,
                               progress=lambda p: progress("collect", p.done, p.total, p.key))

    result.student = train_student(workdir / "collect" / "trajectories.jsonl", workdir, say, progress)

    say("4/4 eval: the trained model as an agent on the bundled tasks (the ones it trained on), both settings")
    student = ClientConfig(model=str(result.student.final_model), max_new_tokens=96)
    agent = AgentConfig(max_steps=EVAL_MAX_STEPS, stepwise=STEPWISE)
    with _one_thread():
        result.evaluation = evaluate(tasks, client_factory(student), workdir / "eval", model=model_identity(student),
                                     dataset="bundled", settings=SETTINGS, config=agent, workers=2,
                                     progress=lambda s, p: progress(f"eval {s}", p.done, p.total, p.key))
    return result


def train_student(trajectories: Path, workdir: Path, say: Callable[[str], None] = lambda _: None,
                  progress: Progress = _no_progress) -> Student:
    """Stages 2 and 3 on graded runs (our JSONL store): tokenizer, step-wise data, SFT, then SRL. Reruns resume."""
    with _one_thread():
        return _train_student(trajectories, workdir, say, progress)


def _train_student(trajectories: Path, workdir: Path, say: Callable[[str], None], progress: Progress) -> Student:
    from swe_srl.recipes import train_sft as sft, train_srl as grpo

    say(f"2/4 data: a {VOCAB_SIZE}-token tokenizer for the tiny model, step-wise SRL examples (issue + last expert step)")
    tokenizer = _tiny_student(workdir / "tiny", trajectories)
    data = build_dataset(trajectories, workdir / "data", tokenizer, STEPWISE,
                         progress=lambda done, total: progress("data", done, total, "bytes read"))

    say(f"3/4 train: {SFT_STEPS} SFT steps, then {SRL_STEPS} SRL (GRPO) steps on the tiny model")
    common = [f"data.path={workdir / 'data'}", "run.resume=true"]
    sft_config = load_config("demo-sft", [*common, f"model.path={workdir / 'tiny'}",
                                          f"run.output_dir={workdir / 'sft'}", f"max_steps={SFT_STEPS}"])
    warm = sft.run(sft_config, on_step=lambda r: progress("sft", r["step"], r["total_steps"], _loss(r)))
    srl_config = load_config("demo-srl", [*common, f"model.path={warm.final_model}",
                                          f"run.output_dir={workdir / 'srl'}", f"run.steps={SRL_STEPS}"])
    trained = grpo.run(srl_config, on_step=lambda r: progress("srl", r["step"], SRL_STEPS, _reward(r)))
    sft_loss = (warm.history[0]["loss"], warm.history[-1]["loss"]) if warm.history else None
    return Student(data, sft_loss, trained.history or _logged_history(trained.output_dir), trained.final_model)


@contextmanager
def _one_thread() -> Iterator[None]:
    """Torch on one thread: a model this small has too little work per operation to share between
    threads, and on a busy machine a second thread per process mostly waits for a core."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def _tiny_student(dest: Path, trajectories: Path):
    """The tokenizer of the random tiny model saved in ``dest``, both built on first use from the runs' text."""
    from transformers import AutoTokenizer

    from swe_srl.train.tiny import default_corpus, tiny_model, tiny_tokenizer

    if (dest / "config.json").is_file():  # a rerun: the same student, not a new random one
        return AutoTokenizer.from_pretrained(dest)
    texts = itertools.chain(default_corpus(), [STEPWISE.system_prompt], _run_texts(trajectories))
    tokenizer = tiny_tokenizer(texts, vocab_size=VOCAB_SIZE, action_markers=True)
    model = tiny_model(tokenizer, hidden_size=HIDDEN_SIZE)
    tokenizer.save_pretrained(dest)
    model.save_pretrained(dest)  # last: its config.json marks the folder complete
    return tokenizer


def _run_texts(trajectories: Path) -> Iterator[str]:
    """What the prompts and targets are made of: issues, actions, thoughts, observations as prompts cut them."""
    for trajectory in read_store(trajectories):
        yield trajectory.problem_statement
        for step in trajectory.steps:
            yield step.thought
            yield step.action.render()
            yield step.observation[: STEPWISE.max_observation_chars]


def _loss(record: dict[str, Any]) -> str:
    return "loss skipped" if record["loss"] is None else f"loss {record['loss']:.3f}"


def _reward(record: dict[str, Any]) -> str:
    return f"reward {record['reward_mean']:+.3f} format failures {record['format_failure_rate']:.2f}"


def _logged_history(output_dir: Path) -> list[dict[str, Any]]:
    """A resumed run that had nothing left to do: its curve is in the metrics log."""
    from swe_srl.train.metrics import read_metrics

    return list(read_metrics(output_dir))
