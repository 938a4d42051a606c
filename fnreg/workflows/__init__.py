"""The GitHub Actions workflows ``fnreg init --workflows`` writes into a user's repository.

``fnreg-train.yml`` trains on demand (pushing every epoch, opening a pull request);
``fnreg-review.yml`` reviews every pull request that changes learned functions or task sets.
Both install fnreg pinned to the version that wrote them, then the user's own project.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib.resources import files

__all__ = ["Workflow", "render_workflows"]


@dataclass(frozen=True)
class Workflow:
    #: File name under ``.github/workflows/``.
    name: str
    text: str


def render_workflows(*, version: str, package: str, tasks: list[str], review_shards: int = 1) -> list[Workflow]:
    """The train and review workflows for a repository whose task sets are ``tasks``."""
    if not tasks:
        raise ValueError("the workflows need at least one task set")
    values = {
        "@FNREG_VERSION@": version,
        "@PACKAGE@": package,
        "@DEFAULT_TASK@": tasks[0],
        "@TASKS@": ", ".join(json.dumps(task) for task in tasks),
        "@SHARDS@": str(review_shards),
        "@SHARD_LIST@": ", ".join(str(i) for i in range(1, review_shards + 1)),
    }
    review = "fnreg-review-sharded.yml" if review_shards > 1 else "fnreg-review.yml"
    return [
        Workflow("fnreg-train.yml", _fill(_template("fnreg-train.yml"), values)),
        Workflow("fnreg-review.yml", _fill(_template(review), values)),
    ]


def _template(name: str) -> str:
    return files(__name__).joinpath(name).read_text(encoding="utf-8")


def _fill(text: str, values: dict[str, str]) -> str:
    for placeholder, value in values.items():
        text = text.replace(placeholder, value)
    return text
