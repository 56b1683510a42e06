"""The demo recipe: the whole pipeline on the bundled default, small enough for a CPU.

1. collect: the bundled expert trajectories are re-executed (replay teacher) in each task's
   Docker sandbox through the agent's own tools, and every final diff is graded by the official
   swebench harness (the gold fixes are str_replace_editor calls in those trajectories);
2. data: the graded runs become step-wise SRL examples (the paper's context: the issue and the
   last two expert steps), token budgets counted with the tiny model's tokenizer;
3. train: the tiny random Qwen2 model gets a few SFT steps on the same examples (the paper's
   baseline; the loss falls), then a few SRL steps with GRPO and dynamic sampling on the
   similarity reward. A 189k-parameter random model does not learn the `<think>` +
   `<function=...>` format from real SWE prompts in a CPU budget, so its SRL rewards stay at -1
   and dynamic sampling drops every group: the curve printed says exactly that. The tests show
   SRL learning on a learnable synthetic task; the presets for Qwen2.5-Coder-7B are the real use;
4. eval: the trained model runs as an agent on the bundled tasks in both settings (end-to-end
   and oracle file edit), graded by the harness. A model this small resolves nothing, and the
   table says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable

from swe_srl.config import load_config
from swe_srl.dataset import BuildSummary, build_dataset
from swe_srl.formats.importing import import_paths
from swe_srl.recipes.collect import CollectSummary, collect, replay_teacher
from swe_srl.stepwise import StepwiseConfig
from swe_srl.tasks.bundled import bundled_tasks
from swe_srl.tasks.environments import ENVIRONMENTS_DIR

BUNDLED_TRAJECTORIES = ENVIRONMENTS_DIR.parent / "trajectories"
SAMPLES = (0, 1)  # two recorded runs per task
SFT_STEPS = 20
SRL_STEPS = 4
EVAL_MAX_STEPS = 3  # agent steps per task for the tiny model


@dataclass
class DemoResult:
    collected: CollectSummary | None = None
    data: BuildSummary | None = None
    sft_loss: tuple[float, float] | None = None  # first and last
    srl_history: list[dict[str, Any]] = field(default_factory=list)
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


def run_demo(workdir: Path, say: Callable[[str], None] = lambda _: None) -> DemoResult:
    """Run every stage into ``workdir``; ``say`` hears one line per stage. Reruns resume."""
    from swe_srl.agent.factory import client_factory
    from swe_srl.agent.identity import model_identity
    from swe_srl.agent.loop import AgentConfig
    from swe_srl.config.sections import ClientConfig
    from swe_srl.evaluate.oracle import SETTINGS
    from swe_srl.recipes import train_sft as sft, train_srl as grpo
    from swe_srl.recipes.evaluate import evaluate
    from swe_srl.train.tiny import tiny_tokenizer

    workdir.mkdir(parents=True, exist_ok=True)
    result = DemoResult(workdir=workdir)
    tasks = bundled_tasks()

    say(f"1/4 collect: replaying {len(tasks) * len(SAMPLES)} expert runs in Docker sandboxes, graded by swebench")
    teacher = replay_teacher(import_paths([BUNDLED_TRAJECTORIES]))
    result.collected = collect(tasks, teacher, workdir / "collect", samples=SAMPLES, workers=2)

    say("2/4 data: step-wise SRL examples (issue + last two expert steps)")
    stepwise = StepwiseConfig(context_steps=2, max_prompt_tokens=2048, max_observation_chars=600)
    result.data = build_dataset(workdir / "collect" / "trajectories.jsonl", workdir / "data", tiny_tokenizer(), stepwise)

    say(f"3/4 train: {SFT_STEPS} SFT steps, then {SRL_STEPS} SRL (GRPO) steps on the tiny model")
    data = f"data.path={workdir / 'data'}"
    sft_config = load_config(
        "sft-tiny-cpu",
        [data, f"run.output_dir={workdir / 'sft'}", f"max_steps={SFT_STEPS}", "optim.lr=1e-2", "global_batch_size=8", "forward_batch_size=8"],
    )
    warm = sft.run(replace(sft_config, run=replace(sft_config.run, resume=True)))
    if warm.history:
        result.sft_loss = (warm.history[0]["loss"], warm.history[-1]["loss"])
    srl_config = load_config(
        "tiny-cpu",
        [data, f"model.path={warm.final_model}", f"run.output_dir={workdir / 'srl'}", f"run.steps={SRL_STEPS}",
         "prompts_per_step=2", "max_sampling_rounds=1", "rollout.max_new_tokens=48"],
    )
    trained = grpo.run(replace(srl_config, run=replace(srl_config.run, resume=True)))
    result.srl_history = trained.history or _logged_history(trained.output_dir)

    say("4/4 eval: the trained model as an agent on the bundled tasks, both settings")
    student = ClientConfig(model=str(trained.final_model), max_new_tokens=96)
    agent = AgentConfig(max_steps=EVAL_MAX_STEPS, stepwise=stepwise)
    result.evaluation = evaluate(tasks, client_factory(student), workdir / "eval", model=model_identity(student),
                                 dataset="bundled", settings=SETTINGS, config=agent, workers=2)
    return result


def _logged_history(output_dir: Path) -> list[dict[str, Any]]:
    """A resumed run that had nothing left to do: its curve is in the metrics log."""
    from swe_srl.train.metrics import read_metrics

    return list(read_metrics(output_dir))
