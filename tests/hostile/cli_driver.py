"""Run many ``fnreg apply`` invocations for the hostile corpus: the real CLI, one forked process each.

Starting the ``fnreg`` command costs seconds (click, rich, openai, libcst, black...), too much
for a hundred cases. This driver imports the CLI once, warms libcst and black, then forks one
child per job. Each child is its own process with its own working directory and its own file
descriptors 1 and 2, runs ``fnreg.main.main(argv)`` exactly as the console script does, and
exits with the command's status, so each case is checked on its own exit code and stderr.

Usage: ``python cli_driver.py JOBS.json RESULTS.json``; JOBS is a list of
``{"id", "cwd", "argv", "stdout", "stderr"}``; RESULTS maps each id to its exit code.
"""

from __future__ import annotations

import json
import os
import sys
import traceback


def _child(job: dict) -> None:
    code = 1
    try:
        os.chdir(job["cwd"])
        for fd, path in ((1, job["stdout"]), (2, job["stderr"])):
            target = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            os.dup2(target, fd)
            os.close(target)
        from fnreg.main import main

        try:
            main(job["argv"])
            code = 0
        except SystemExit as exc:  # what the interpreter does with it at exit
            if isinstance(exc.code, str):
                print(exc.code, file=sys.stderr)
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:  # an uncaught exception: a traceback on stderr and status 1, as python would
        traceback.print_exc()
        code = 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _warm_up() -> None:
    """Import and exercise what every child needs, once, before forking."""
    import fnreg.main  # noqa: F401 - registers every command
    from fnreg.registry import parse_action
    from fnreg.registry.module_builder import build_init, build_module

    action = {
        "name": "warm_up",
        "description": "Warm up.",
        "arguments": '{"x": {"type": "integer"}}',
        "code": "return x",
    }
    build_module(parse_action(action, kind="add_function"))
    build_init("warm", ["warm_up"])


def main() -> None:
    jobs_path, results_path = sys.argv[1:3]
    with open(jobs_path, encoding="utf-8") as handle:
        jobs = json.load(handle)
    _warm_up()
    parallel = max(1, int(os.environ.get("FNREG_HOSTILE_PARALLEL") or os.cpu_count() or 1))
    pending, running, results = list(jobs), {}, {}
    while pending or running:
        while pending and len(running) < parallel:
            job = pending.pop(0)
            sys.stdout.flush()
            sys.stderr.flush()
            pid = os.fork()
            if pid == 0:
                _child(job)
            running[pid] = job
        pid, status = os.wait()
        results[running.pop(pid)["id"]] = os.waitstatus_to_exitcode(status)
    with open(results_path, "w", encoding="utf-8") as handle:
        json.dump(results, handle)


if __name__ == "__main__":
    main()
