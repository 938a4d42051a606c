"""The training loop: the paper's Algorithm 2 with git as the checkpoint (DESIGN.md, made exact).

::

    F_best ← toolset at start;  H_best ← Eval(F_best, train)              # epoch 0
    for epoch in 1..E:
        step: up to max_actions optimizer actions, one commit each     # List B grows
        H ← Eval(F, batch)                 (and V ← Eval(F, val) when the task set has one)
        H > H_best (strict) → F_best, H_best ← F, H; failures ← []; r ← 0
        else → git revert the epoch's actions; failures += (F, H); r += 1; r ≥ patience → stop
    tag the best epoch commit;  optionally evaluate it on the test split

Where the paper's text and its experiments differ, a setting chooses (``TrainConfig``):
``ties`` (a tie rolled back, or kept as the reference implementation did), ``batch_rule``
(fnreg's paired comparison on the same batch, or the paper's comparison with the best's
recorded score), and the ablations ``rollback=False`` and ``early_stop=False``. With a
validation split, its score (V) decides keep, roll-back, early stop and best; the optimizer
still learns from the training conversations only.

A step that changes nothing (TERMINATE at once, or no valid proposal) is recorded as
``no_change`` without evaluating again (at temperature 0 the unchanged functions would score
the same, from the cache); the next request names the step number and what the previous step
did, so it is never the same request as before.

:meth:`Trainer.run` yields :mod:`~fnreg.training.events` as it goes and can be resumed after
a kill at any instant: everything it needs is read back from the branch (:mod:`.state`).
"""

from __future__ import annotations

import dataclasses
import random
import tempfile
import time
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fnreg.config import default
from fnreg.errors import FnregError
from fnreg.evaluation.adapter import Adapter
from fnreg.evaluation.runner import EvalResult, TaskResult
from fnreg.evaluation.tasks import Task, TaskSet
from fnreg.llm import MeterSnapshot, Usage, UsageMeter
from fnreg.optimizer import AgentOptimizer, Experience, FailedSet, OptimizerInputs, StepResult
from fnreg.registry.history import (
    BEST_SCORE,
    BEST_VAL_SCORE,
    DECIDED_BY,
    EPOCH,
    RUN,
    SCORE,
    SPLIT,
    STOP,
    TASK_SET,
    TASKS,
    TOOLSET,
    epoch_message,
    format_message,
    percent,
)
from fnreg.training.config import TrainingConfig
from fnreg.training.decision import decide, roll_back
from fnreg.training.events import (
    ActionApplied,
    ActionRejected,
    Decision,
    EpochFinished,
    EvaluationFinished,
    EvaluationStarted,
    Event,
    Phase,
    RunFinished,
    RunStarted,
    StopReason,
    TaskFinished,
)
from fnreg.training.notes import EpochNote, NotedAction, NotedRejection, read_note, write_note
from fnreg.training.progress import describe_step
from fnreg.training.state import BEST_DECISIONS, EpochRecord, RunState, load_state
from fnreg.training.workspace import Workspace

Events = Generator[Event, None, Any]


@dataclass(frozen=True)
class TrainConfig:
    """How long and how hard to train (defaults: the schema's, :class:`~fnreg.training.config.TrainingConfig`)."""

    #: Optimizer steps (the paper: 10).
    epochs: int = default(TrainingConfig, "epochs")
    #: Epochs in a row without strict improvement before stopping (the paper's threshold: 10).
    patience: int = default(TrainingConfig, "patience")
    #: Tasks sampled per epoch (paper §3.3.4); None = the whole training split.
    batch_size: int | None = default(TrainingConfig, "batch_size")
    #: Seed of the batch sampling.
    seed: int = default(TrainingConfig, "seed")
    #: Evaluate the best set on the test split at the end.
    test: bool = False
    #: End the run cleanly (best tag written) once this many USD or billed tokens were spent.
    max_cost: float | None = default(TrainingConfig, "max_cost")
    max_tokens: int | None = default(TrainingConfig, "max_tokens")
    #: A step that ties the best: "rollback" (the paper's pseudocode) or "keep" (its experiments).
    ties: str = default(TrainingConfig, "ties")
    #: With batches: "paired" (fnreg: the best set again on the same batch) or "paper" (its recorded score).
    batch_rule: str = default(TrainingConfig, "batch_rule")
    #: False: keep every step, improving or not (the paper's "without roll-back" ablation).
    rollback: bool = default(TrainingConfig, "rollback")
    #: False: never stop before ``epochs`` (the paper's "without early stop" ablation).
    early_stop: bool = default(TrainingConfig, "early_stop")
    #: The preset these settings came from ("fnreg" or "paper"), recorded with the run.
    protocol: str = default(TrainingConfig, "protocol")

    def __post_init__(self) -> None:
        for name in ("epochs", "patience"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")
        if self.batch_size is not None and self.batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        for name, allowed in (("ties", ("rollback", "keep")), ("batch_rule", ("paired", "paper"))):
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {', '.join(allowed)}, got {getattr(self, name)!r}")


def _usage_record(spent: MeterSnapshot) -> dict[str, Usage]:
    """Usage of one epoch for its note: the total and each role (agent, optimizer)."""
    return {"total": spent.total, **spent.roles}


class Trainer:
    """Trains one toolset on one task set, on a run branch in its own worktree."""

    def __init__(
        self,
        workspace: Workspace,
        task_set: TaskSet,
        adapter: Adapter,
        optimizer: AgentOptimizer,
        config: TrainConfig = TrainConfig(),
        usage: UsageMeter | None = None,
    ) -> None:
        self.workspace = workspace
        self.task_set = task_set
        self.adapter = adapter
        self.optimizer = optimizer
        self.config = config
        self.usage = usage or UsageMeter()
        self.toolset = workspace.toolset
        self.run_id = workspace.run

    # ------------------------------------------------------------------ the loop

    def run(self) -> Iterator[Event]:
        """Train (or resume) to the end, yielding events; holds the toolset's lock throughout.

        The run's worktree exists only meanwhile: however the run ends (finished, early stop,
        budget, error, Ctrl-C, or the generator closed), it is removed and the branch stays,
        unless no epoch was ever recorded on it, in which case the branch goes too.
        """
        with self.workspace.lock():
            self.workspace.open()
            try:
                yield from self._run()
            finally:
                self.workspace.close(keep_branch=self._has_epochs())

    def _has_epochs(self) -> bool:
        try:
            return bool(load_state(self.workspace.main.git, self.workspace.branch, self.run_id).epochs)
        except FnregError:
            return True  # when in doubt, keep what may be someone's work

    def _run(self) -> Events:
        self.git = self.workspace.git()
        self.registry = self.workspace.registry()
        state = self._recover(self._state())
        self._spent_before = self._recorded_usage(state)
        yield RunStarted(
            self.run_id,
            self.toolset,
            self.workspace.branch,
            str(self.workspace.path),
            bool(state.epochs),
            state.next_epoch,
        )
        if self.workspace.tag in self.git.tags(self.workspace.tag):
            yield self._finished(state, "finished")
            return
        if not state.epochs:
            yield from self._baseline()
            state = self._state()
        reason: StopReason = "epochs"
        while state.next_epoch <= self.config.epochs:
            if self._patience_out(state):
                reason = "early_stop"
                break
            if self._over_budget():
                reason = "budget"
                break
            finished = yield from self._epoch(state, state.next_epoch)
            state = self._state()
            if not finished:
                reason = "budget"
                break
        else:
            reason = "early_stop" if self._patience_out(state) else "epochs"
        if self.config.test and state.test is None:
            yield from self._test(state)
            state = self._state()
        self._tag(state, reason)
        yield self._finished(state, reason)

    def _state(self) -> RunState:
        return load_state(self.git, self.workspace.branch, self.run_id)

    def _patience_out(self, state: RunState) -> bool:
        return self.config.early_stop and state.patience_used >= self.config.patience

    def _recover(self, state: RunState) -> RunState:
        """Finish or drop what a killed run left half done."""
        if state.pending:  # a step that was never evaluated: drop it, it is redone from the cache
            self.git.run("reset", "--quiet", "--hard", f"{state.pending[0]}^")
            state = self._state()
        if state.epochs:
            self._attach_scratch_note(state.epochs[-1])
        if state.needs_rollback:
            self._roll_back(state.epochs[-1])
            state = self._state()
        return state

    def _baseline(self) -> Events:
        before = self.usage.snapshot()
        result = yield from self._evaluate(0, "baseline", self._batch(0))
        val = (yield from self._evaluate(0, "val", self._val_tasks)) if self._has_val else None
        spent = self.usage.snapshot() - before
        note = EpochNote(
            result,
            0,
            "baseline",
            usage=_usage_record(spent),
            val_results=val,
            decided_by=self._decided_by,
            settings=self._settings(),
        )
        val_score = val.score if val is not None else None
        commit = self._commit_epoch(note, result, val_score)
        yield EpochFinished(0, result.score, result.score, "baseline", commit, 0, spent.total, val_score, val_score)

    def _epoch(self, state: RunState, epoch: int) -> Events:
        """One optimizer step and its evaluation; False when the budget ran out mid-way."""
        tasks = self._batch(epoch)
        before = self.usage.snapshot()
        best = state.best
        assert best is not None
        base = None if self._paired else self._best_results(best)
        if base is None:  # the paired batch rule compares on the same batch; or the best note is missing
            base = yield from self._evaluate(epoch, "best", tasks)
        inputs = self._inputs(state, base, epoch)
        step = self.optimizer.step(self.registry, self.toolset, inputs, run=self.run_id, epoch=epoch)
        for applied in step.applied:
            yield ActionApplied(epoch, applied)
        for rejection in step.rejected:
            yield ActionRejected(epoch, rejection.tool, tuple(rejection.errors))
        if self._over_budget() and step.applied:
            self.git.run("reset", "--quiet", "--hard", f"{step.applied[0].commit}^")
            return False
        val: EvalResult | None = None
        if not step.applied:
            decision: Decision = "no_change"
            result = base
        else:
            result = yield from self._evaluate(epoch, "candidate", tasks)
            if self._has_val:
                val = yield from self._evaluate(epoch, "val", self._val_tasks)
            decision = self._decide(result, base, val, best)
        spent = self.usage.snapshot() - before
        # An unchanged set scores on the validation split what the best did (it is the best).
        val_score = val.score if val is not None else best.val_score
        note = self._step_note(epoch, decision, result, base, step, spent, val)
        commit = self._commit_epoch(note, base, val_score, best.val_score)
        if decision == "rolled_back":
            self._roll_back(self._state().epochs[-1])
        kept = decision in ("improved", "kept")
        patience = 0 if kept else self._state().patience_used
        best_score = result.score if kept else base.score
        best_val = val_score if kept else best.val_score
        yield EpochFinished(
            epoch, result.score, best_score, decision, commit, patience, spent.total, val_score, best_val
        )
        return True

    def _decide(self, result: EvalResult, base: EvalResult, val: EvalResult | None, best: EpochRecord) -> Decision:
        """Keep or roll back on the validation score when there is one, else on the training score."""
        if val is not None and best.val_score is not None:
            score, best_score = val.score, best.val_score
        else:
            score, best_score = result.score, base.score
        return decide(score, best_score, ties=self.config.ties, rollback=self.config.rollback)

    # ------------------------------------------------------------------ evaluation

    @property
    def _batched(self) -> bool:
        size = self.config.batch_size
        return size is not None and size < len(self.task_set.split("train"))

    @property
    def _paired(self) -> bool:
        """fnreg's batch rule: the best set is evaluated again on each new batch (twice the agent cost)."""
        return self._batched and self.config.batch_rule == "paired"

    @property
    def _has_val(self) -> bool:
        return self.task_set.has_val

    @property
    def _val_tasks(self) -> list[Task]:
        return self.task_set.split("val")

    @property
    def _decided_by(self) -> str:
        return "val" if self._has_val else "train"

    def _settings(self) -> dict[str, Any]:
        """What decides how this run trains, recorded on its baseline note (reports and reproductions read it)."""
        optimizer = {
            name: getattr(self.optimizer, name)
            for name in ("max_actions", "clip", "show_answers", "update")
            if hasattr(self.optimizer, name)
        }
        return {**dataclasses.asdict(self.config), **optimizer, "decided_by": self._decided_by}

    def _batch(self, epoch: int) -> list[Task]:
        """The epoch's training tasks: all of them, or a seeded sample (the same on resume)."""
        tasks = self.task_set.split("train")
        if not self._batched:
            return tasks
        chosen = set(random.Random(f"{self.config.seed}:{epoch}").sample(range(len(tasks)), self.config.batch_size))
        return [t for i, t in enumerate(tasks) if i in chosen]

    def _evaluate(
        self, epoch: int, phase: Phase, tasks: Sequence[Task], checkout: Path | None = None
    ) -> Generator[Event, None, EvalResult]:
        yield EvaluationStarted(epoch, phase, len(tasks))
        started = time.monotonic()
        results: list[TaskResult] = []
        for result in self.adapter.evaluate(checkout or self.workspace.path, tasks):
            results.append(result)
            yield TaskFinished(epoch, phase, result, len(results), len(tasks), sum(r.correct for r in results))
        order = {t.id: i for i, t in enumerate(tasks)}
        results.sort(key=lambda r: order[r.task_id])
        meta: dict[str, Any] = {"phase": phase, "epoch": epoch}
        sandbox = getattr(self.adapter, "sandbox_record", None)  # how learned code was isolated
        if sandbox:
            meta["sandbox"] = dict(sandbox)
        evaluation = EvalResult(results, time.monotonic() - started, meta=meta)
        yield EvaluationFinished(epoch, phase, evaluation)
        return evaluation

    def _best_results(self, best: EpochRecord) -> EvalResult | None:
        """The best epoch's results from its note (the optimizer reads its conversations)."""
        note = read_note(self.git, best.commit)
        return note.results if note is not None else None

    def _inputs(self, state: RunState, base: EvalResult, epoch: int) -> OptimizerInputs:
        failures = [FailedSet(self._sources(e.commit), e.score) for e in state.failures]
        histories = [
            Experience(r.conversation.messages, r.correct, r.task_id, answer=r.answer, gold=r.gold)
            for r in base.results
        ]
        last = state.epochs[-1]
        return OptimizerInputs(
            best_sources=self._sources("HEAD"),
            best_score=base.score,
            histories=histories,
            failures=failures,
            step=epoch,
            steps=self.config.epochs,
            previous_step=describe_step(last, read_note(self.git, last.commit)),
        )

    def _sources(self, ref: str) -> dict[str, str]:
        return self.registry.toolset(self.toolset, ref).sources()

    def _test(self, state: RunState) -> Events:
        """The best functions on the test split, and the starting ones too, for the pull request's review."""
        best = state.best
        assert best is not None
        tasks = self.task_set.split("test")
        before = self.usage.snapshot()
        result = yield from self._evaluate(best.epoch, "test", tasks)
        start = None
        if best.epoch != 0 and state.start is not None:
            with tempfile.TemporaryDirectory(prefix="fnreg-start-") as folder:
                checkout = self.registry.export(self.toolset, state.start, Path(folder))
                start = yield from self._evaluate(0, "test_start", tasks, checkout)
        spent = _usage_record(self.usage.snapshot() - before)
        note = EpochNote(result, best.epoch, task_set=self.task_set.name, start_results=start, usage=spent)
        message = format_message(
            f"test: {percent(result.score)} with epoch {best.epoch}'s functions",
            None,
            [
                (RUN, self.run_id),
                (TOOLSET, self.toolset),
                (EPOCH, best.epoch),
                (SPLIT, "test"),
                (SCORE, f"{result.score:.6f}"),
                (TASKS, result.total),
            ],
        )
        commit = self.git.commit_empty(message)
        write_note(self.git, commit, note)

    # ------------------------------------------------------------------ writing history

    def _commit_epoch(
        self, note: EpochNote, base: EvalResult, val_score: float | None = None, best_val: float | None = None
    ) -> str:
        """The epoch commit with its score trailers, then its note; the scratch copy bridges a crash in between."""
        assert note.epoch is not None and note.decision is not None
        scratch = self.workspace.save_scratch(f"epoch-{note.epoch}.json", note.to_json())
        message = epoch_message(
            self.toolset,
            self.run_id,
            note.epoch,
            score=note.results.score,
            tasks=note.results.total,
            best=note.decision in BEST_DECISIONS,
            decision=note.decision,
            val_score=val_score,
            extra=[
                (BEST_SCORE, f"{base.score:.6f}"),
                (BEST_VAL_SCORE, f"{best_val:.6f}" if best_val is not None else None),
                (DECIDED_BY, self._decided_by),
                (TASK_SET, self.task_set.name),
            ],
        )
        commit = self.git.commit_empty(message)
        write_note(self.git, commit, note)
        scratch.unlink(missing_ok=True)
        return commit

    def _attach_scratch_note(self, epoch: EpochRecord) -> None:
        scratch = self.workspace.scratch / f"epoch-{epoch.epoch}.json"
        if scratch.exists() and self.git.read_note(epoch.commit) is None:
            note = EpochNote.parse(scratch.read_text(encoding="utf-8"))
            if note is not None:  # a scratch file cut short by the crash is not a note
                write_note(self.git, epoch.commit, note)
        scratch.unlink(missing_ok=True)

    def _roll_back(self, epoch: EpochRecord) -> None:
        roll_back(
            self.git,
            epoch.actions,
            toolset=self.toolset,
            run=self.run_id,
            epoch=epoch.epoch,
            score=epoch.deciding_score,
            best_score=epoch.deciding_best,
            split=epoch.decided_by,
        )

    def _step_note(
        self,
        epoch: int,
        decision: Decision,
        result: EvalResult,
        base: EvalResult,
        step: StepResult,
        spent: MeterSnapshot,
        val: EvalResult | None = None,
    ) -> EpochNote:
        return EpochNote(
            result,
            epoch,
            decision,
            best_results=base if self._paired and base is not result else None,
            val_results=val,
            decided_by=self._decided_by,
            actions=tuple(NotedAction(a.commit, a.action.kind, a.action.name, a.action.reason) for a in step.applied),
            rejected=tuple(NotedRejection(r.tool, tuple(r.errors)) for r in step.rejected),
            terminated=step.terminated,
            usage=_usage_record(spent),
        )

    def _tag(self, state: RunState, reason: StopReason) -> None:
        best = state.best
        assert best is not None
        val = f", val {percent(best.val_score)}" if best.val_score is not None else ""
        lines = [
            f"best epoch {best.epoch} of run {self.run_id}: train {percent(best.score)} on "
            f"{best.tasks} task{'' if best.tasks == 1 else 's'}{val}",
            f"stopped: {reason.replace('_', ' ')} after epoch {state.epochs[-1].epoch}",
            f"protocol: {self.config.protocol} (ties {self.config.ties}, batch rule {self.config.batch_rule}"
            + ("" if self.config.rollback else ", no roll-back")
            + ("" if self.config.early_stop else ", no early stop")
            + f"; decided by {self._decided_by})",
        ]
        if state.test is not None:
            tested = state.test.trailer(TASKS)
            lines.append(
                f"test: {percent(float(state.test.trailer(SCORE) or 0))} on {tested} task{'' if tested == '1' else 's'}"
            )
        lines.append(f"usage: {self._recorded_usage(state)}")
        lines += ["", f"{STOP}: {reason}"]
        self.git.tag(self.workspace.tag, best.commit, "\n".join(lines) + "\n", force=True)

    def _finished(self, state: RunState, reason: StopReason) -> RunFinished:
        best = state.best
        assert best is not None
        test = float(state.test.trailer(SCORE) or 0) if state.test is not None else None
        return RunFinished(
            run=self.run_id,
            reason=reason,
            best_epoch=best.epoch,
            best_score=best.score,
            best_commit=best.commit,
            tag=self.workspace.tag,
            branch=self.workspace.branch,
            worktree=str(self.workspace.path),
            usage=self._recorded_usage(state),
            test_score=test,
            best_val_score=best.val_score,
        )

    def _recorded_usage(self, state: RunState) -> Usage:
        """What the run has spent, from its epoch and test notes: the one total that the summary,
        the report and the tag message all show, and that budgets count from on resume."""
        commits = [epoch.commit for epoch in state.epochs] + ([state.test.sha] if state.test else [])
        total = Usage()
        for commit in commits:
            note = read_note(self.git, commit)
            if note is not None:
                total += note.total_usage
        return total

    def _over_budget(self) -> bool:
        total: Usage = self._spent_before + self.usage.total
        if self.config.max_tokens is not None and total.billed_tokens >= self.config.max_tokens:
            return True
        cost = total.cost_usd
        return self.config.max_cost is not None and cost is not None and cost >= self.config.max_cost
