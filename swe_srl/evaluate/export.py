"""Tasks and predictions in the files swebench's own harness reads, so results can be re-graded by it alone.

``dataset.jsonl`` holds swebench 5 rows, each naming the image its task grades in (built or
pulled here first, so the harness finds it), and ``predictions.jsonl`` the patches exactly as
swe-srl grades them: with the parts its grading rule sets aside (protected_files.py) removed.
Then ``python -m swebench.harness.run_evaluation --dataset_name dataset.jsonl --predictions_path
predictions.jsonl --run_id ID`` grades what swe-srl graded; only the pytest guard (guard.py), which
the official harness does not load, can make the two differ, on a patch that games the tests.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Sequence

from swe_srl.atomic import write_text_atomic
from swe_srl.errors import DataError
from swe_srl.evaluate.predictions import Prediction, write_predictions
from swe_srl.evaluate.protected_files import screen_for
from swe_srl.images.task_image import ensure_task_image
from swe_srl.tasks.gradable import check_gradable
from swe_srl.tasks.task import Task

DATASET_FILE = "dataset.jsonl"
PREDICTIONS_FILE = "predictions.jsonl"


@dataclass(frozen=True)
class Exported:
    dataset: Path
    predictions: Path | None
    set_aside: dict[str, dict[str, str]]  # instance id -> path -> reason, for predictions that lost parts


def swebench_row(task: Task, client: Any | None = None) -> dict[str, Any]:
    """``task``'s row as swebench 5 reads it, its image present on this machine's engine."""
    return replace(task, image=ensure_task_image(task, client)).to_row()


def export_swebench(tasks: Sequence[Task], out_dir: Path, predictions: Sequence[Prediction] = (),
                    client: Any | None = None) -> Exported:
    """Write ``dataset.jsonl`` (and ``predictions.jsonl`` when given some) under ``out_dir``."""
    by_id = {task.instance_id: task for task in tasks}
    unknown = sorted({p.instance_id for p in predictions} - set(by_id))
    if unknown:
        raise DataError(f"predictions for tasks not in the task file: {', '.join(unknown[:5])}")
    for task in tasks:  # every row, before any image is built
        check_gradable(task)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = [swebench_row(task, client) for task in tasks]
    dataset = out_dir / DATASET_FILE
    write_text_atomic(dataset, "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows))
    if not predictions:
        return Exported(dataset, None, {})
    graded, aside = [], {}
    for prediction in predictions:
        task = by_id[prediction.instance_id]
        screened = screen_for(task, prediction.model_patch)
        graded.append(replace(prediction, model_patch=screened.patch))
        if screened.set_aside:
            aside[prediction.instance_id] = dict(screened.set_aside)
    write_predictions(graded, out_dir / PREDICTIONS_FILE)
    return Exported(dataset, out_dir / PREDICTIONS_FILE, aside)
