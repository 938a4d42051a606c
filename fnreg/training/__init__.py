"""Agent training on git: the loop (``engine``), its resumable state (``state``), where a run
lives (``workspace``), how a run is put together (``launch``) and its report (``report``)."""

from fnreg.training.engine import TrainConfig, Trainer
from fnreg.training.events import Event, RunFinished
from fnreg.training.launch import RunOptions, prepare_run, project_run, settings_from_project
from fnreg.training.workspace import Workspace

__all__ = [
    "Event",
    "RunFinished",
    "RunOptions",
    "TrainConfig",
    "Trainer",
    "Workspace",
    "prepare_run",
    "project_run",
    "settings_from_project",
]
