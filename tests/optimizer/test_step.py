"""One optimizer step against a loopback endpoint: actions become commits, errors become re-asks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fnreg.errors import ActionError, LLMError
from fnreg.llm import count_message_tokens
from fnreg.optimizer import AgentOptimizer, Experience, FailedSet, OptimizerInputs
from fnreg.registry import Registry, parse_action
from fnreg.registry.history import ACTION, EPOCH, FUNCTION, RUN, TOOLSET
from fnreg.testing.server import Fault, FunctionCall, Message, text, tool_call
from tests.conftest import git
from tests.optimizer.conftest import action
from tests.optimizer.synthetic import math_histories

SQUARE = action("square", "def square(x: int) -> int:\n    return x * x\n")
SQUARE_REVISED = action(
    "square", "def square(x: int) -> int:\n    return x**2\n", description="Square an integer exactly."
)
OLD = action("old_helper", "def old_helper(x: int) -> int:\n    return x\n")
BROKEN_JSON = '{"name": "square", "description": "Square.", "arguments": "{}", "code": "return 1",'
SYNTAX_ERROR = action("square", "def square(x: int) -> int:\n    return (x *\n")
HISTORY = [
    Experience(
        [{"role": "user", "content": "What is 12 squared?"}, {"role": "assistant", "content": "\\boxed{144}"}],
        satisfied=True,
        task_id="t1",
    ),
    Experience(
        [{"role": "user", "content": "What is 13 squared?"}, {"role": "assistant", "content": "\\boxed{196}"}],
        satisfied=False,
        task_id="t2",
    ),
]


def inputs_for(registry: Registry, score: float = 0.5) -> OptimizerInputs:
    return OptimizerInputs(registry.toolset("math", ref="HEAD").sources(), score, HISTORY)


def head(repo: Path) -> str:
    return git(repo, "rev-parse", "HEAD")


def tool_messages(request: dict) -> list[str]:
    return [m["content"] for m in request["messages"] if m["role"] == "tool"]


def test_add_revise_remove_are_three_commits(git_repo, serve, connect):
    registry = Registry(git_repo)
    registry.apply(dict(OLD, action="add_function"), toolset="math")
    start = head(git_repo)
    server = serve(
        script=[
            tool_call("add_function", SQUARE, content="Squaring recurs in the failed tasks."),
            tool_call("revise_function", SQUARE_REVISED),
            tool_call("remove_function", {"name": "old_helper", "reason": "never called"}),
        ]
    )
    optimizer = AgentOptimizer(connect(server), max_actions=3)

    result = optimizer.step(registry, "math", inputs_for(registry), run="run-7", epoch=2)

    assert [a.action.summary() for a in result.applied] == [
        "add_function square",
        "revise_function square",
        "remove_function old_helper",
    ]
    assert not result.terminated and result.rejected == [] and result.requests == 3
    assert result.usage.calls == 3 and result.usage.prompt_tokens > 0
    subjects = git(git_repo, "log", "--format=%s", f"{start}..HEAD").splitlines()
    assert subjects == ["remove_function old_helper", "revise_function square", "add_function square"]
    for sha, (kind, name) in zip(
        git(git_repo, "rev-list", f"{start}..HEAD").splitlines(),
        [("remove_function", "old_helper"), ("revise_function", "square"), ("add_function", "square")],
    ):
        trailers = git(git_repo, "log", "-1", "--format=%(trailers:only,unfold)", sha)
        for line in (f"{RUN}: run-7", f"{EPOCH}: 2", f"{TOOLSET}: math", f"{ACTION}: {kind}", f"{FUNCTION}: {name}"):
            assert line in trailers
    # The model's text beside the call, or the call's own reason, is the commit body.
    removed, _, added = git(git_repo, "rev-list", f"{start}..HEAD").splitlines()
    assert git(git_repo, "log", "-1", "--format=%b", added).startswith("Squaring recurs")
    assert git(git_repo, "log", "-1", "--format=%b", removed).startswith("never called")
    # The new list: square (revised); old_helper gone.
    assert list(result.sources) == ["square"] and "x**2" in result.sources["square"]
    assert registry.toolset("math").names == ["square"]
    # Each request saw List B as it was after the previous action.
    first, second, third = (r["messages"][1]["content"] for r in server.requests)
    assert "List B is identical to List A" in first and "### old_helper" in first
    assert "### square (added)" in second and "x * x" in second
    assert "after 2 actions on List A" in third and "### square (added)" in third and "x**2" in third


@pytest.mark.parametrize("bad", [BROKEN_JSON, json.dumps(SYNTAX_ERROR)], ids=["invalid-json", "syntax-error"])
def test_invalid_proposal_is_corrected_on_the_second_trial(git_repo, serve, connect, bad):
    registry = Registry(git_repo)
    with pytest.raises(ActionError) as expected:
        registry.prepare(parse_action(bad, kind="add_function"), toolset="math")
    server = serve(
        script=[
            Message(tool_calls=[FunctionCall("add_function", bad, id="call_bad")]),
            tool_call("add_function", SQUARE),
        ]
    )
    optimizer = AgentOptimizer(connect(server), max_actions=1)

    result = optimizer.step(registry, "math", inputs_for(registry))

    assert [a.action.name for a in result.applied] == ["square"] and result.rejected == []
    assert result.requests == 2
    first, second = server.requests
    # The re-ask is the previous exchange plus the exact error as the tool result.
    assert second["messages"][:2] == first["messages"]
    assistant, reply = second["messages"][2:]
    assert assistant["tool_calls"][0]["function"]["arguments"] == bad
    assert reply["tool_call_id"] == "call_bad" and str(expected.value) in reply["content"]
    assert git(git_repo, "log", "-1", "--format=%s") == "add_function square"


def test_action_never_valid_is_skipped_and_reported(git_repo, serve, connect):
    registry = Registry(git_repo)
    start = head(git_repo)
    bad = [tool_call("add_function", SYNTAX_ERROR) for _ in range(3)]
    server = serve(script=[*bad, text("TERMINATE")])
    optimizer = AgentOptimizer(connect(server), max_actions=2, max_trials=3)

    result = optimizer.step(registry, "math", inputs_for(registry))

    assert result.applied == [] and result.terminated and result.requests == 4
    (rejection,) = result.rejected
    assert rejection.tool == "add_function" and json.loads(rejection.arguments) == SYNTAX_ERROR
    assert len(rejection.errors) == 3 and all("syntax error" in e for e in rejection.errors)
    assert head(git_repo) == start
    # Trials grow the exchange; the next action's request names the rejected proposal, so it is new.
    assert [len(r["messages"]) for r in server.requests] == [2, 4, 6, 2]
    assert server.requests[3] != server.requests[0]
    assert "rejected earlier in this step" in server.requests[3]["messages"][1]["content"]


def test_unknown_tool_is_an_error_the_model_can_fix(git_repo, serve, connect):
    registry = Registry(git_repo)
    server = serve(script=[tool_call("create_function", SQUARE), tool_call("add_function", SQUARE)])
    result = AgentOptimizer(connect(server), max_actions=1).step(registry, "math", inputs_for(registry))
    assert [a.action.name for a in result.applied] == ["square"]
    assert "unknown action 'create_function'" in tool_messages(server.requests[1])[0]


def test_terminate_stops_the_step_early(git_repo, serve, connect):
    registry = Registry(git_repo)
    server = serve(script=[tool_call("add_function", SQUARE), text("TERMINATE")])
    result = AgentOptimizer(connect(server), max_actions=3).step(registry, "math", inputs_for(registry))
    assert result.terminated and result.requests == 2 and len(result.applied) == 1
    assert len(server.requests) == 2


def test_max_actions_is_respected(git_repo, serve, connect):
    registry = Registry(git_repo)
    counter = iter(range(100))

    def always_add(request: dict) -> Message:
        n = next(counter)
        return tool_call("add_function", action(f"f{n}", f"def f{n}(x: int) -> int:\n    return x + {n}\n"))

    server = serve(policy=always_add)
    result = AgentOptimizer(connect(server), max_actions=2).step(registry, "math", inputs_for(registry))
    assert [a.action.name for a in result.applied] == ["f0", "f1"] and result.requests == 2
    assert registry.toolset("math").names == ["f0", "f1"]


def test_several_calls_in_one_response_count_each_and_stop_at_the_limit(git_repo, serve, connect):
    registry = Registry(git_repo)
    calls = [
        tool_call("add_function", action(f"g{n}", f"def g{n}(x: int) -> int:\n    return x - {n}\n")) for n in range(3)
    ]
    server = serve(script=[Message(tool_calls=calls)])
    result = AgentOptimizer(connect(server), max_actions=2).step(registry, "math", inputs_for(registry))
    assert [a.action.name for a in result.applied] == ["g0", "g1"]
    assert result.requests == 1 and result.rejected == []


def test_a_partly_valid_response_re_asks_only_with_all_results(git_repo, serve, connect):
    registry = Registry(git_repo)
    good = FunctionCall("add_function", json.dumps(SQUARE), id="ok")
    bad = FunctionCall("add_function", json.dumps(SYNTAX_ERROR | {"name": "cube"}), id="bad")
    cube = action("cube", "def cube(x: int) -> int:\n    return x**3\n")
    server = serve(script=[Message(tool_calls=[good, bad]), tool_call("add_function", cube), text("TERMINATE")])
    result = AgentOptimizer(connect(server), max_actions=3).step(registry, "math", inputs_for(registry), epoch=1)
    assert [a.action.name for a in result.applied] == ["square", "cube"] and result.requests == 3
    replies = {m["tool_call_id"]: m["content"] for m in server.requests[1]["messages"] if m["role"] == "tool"}
    assert replies["ok"].startswith("applied: add_function square")
    assert replies["bad"].startswith("error: add_function cube: code has a syntax error")


def test_llm_failing_forever_propagates_and_commits_nothing(git_repo, serve, connect):
    registry = Registry(git_repo)
    start = head(git_repo)
    server = serve(policy=lambda request: Fault(status=500))
    optimizer = AgentOptimizer(connect(server, max_retries=2), max_actions=3)
    with pytest.raises(LLMError, match="HTTP 500"):
        optimizer.step(registry, "math", inputs_for(registry))
    assert len(server.requests) == 3  # the client's own retries, then the error
    assert head(git_repo) == start and git(git_repo, "status", "--porcelain") == ""


def test_an_error_after_an_applied_action_leaves_only_complete_commits(git_repo, serve, connect):
    registry = Registry(git_repo)
    start = head(git_repo)
    server = serve(script=[tool_call("add_function", SQUARE)], policy=lambda request: Fault(status=503))
    with pytest.raises(LLMError):
        AgentOptimizer(connect(server, max_retries=0), max_actions=3).step(registry, "math", inputs_for(registry))
    assert git(git_repo, "log", "--format=%s", f"{start}..HEAD") == "add_function square"
    assert git(git_repo, "status", "--porcelain") == ""


def test_a_re_ask_stays_within_the_budget(git_repo, serve, connect):
    registry = Registry(git_repo)
    huge = SYNTAX_ERROR | {
        "code": "def square(x: int) -> int:\n" + "    y = x  # padding\n" * 800 + "    return (x *\n"
    }
    server = serve(script=[tool_call("add_function", huge), tool_call("add_function", SQUARE)])
    client = connect(server, model="gpt-4o")
    inputs = OptimizerInputs({}, 0.5, math_histories(200))
    result = AgentOptimizer(client, max_actions=1, prompt_budget=20_000).step(registry, "math", inputs)
    assert [a.action.name for a in result.applied] == ["square"]
    first, second = server.requests
    for request in (first, second):
        assert count_message_tokens(request["messages"], request["tools"], "gpt-4o") <= 20_000
    # Room for the echoed proposal came from showing fewer conversations.
    assert second["messages"][1]["content"].count("### Conversation") < first["messages"][1]["content"].count(
        "### Conversation"
    )


def test_the_response_cache_answers_a_repeated_step_but_not_one_after_a_failure(tmp_path, serve, connect):
    server = serve(policy=lambda request: text("TERMINATE"))
    client = connect(server, cache_path=tmp_path / "cache.sqlite")
    repos = []
    for name in ("a", "b", "c"):
        repo = tmp_path / name
        repo.mkdir()
        git(repo, "init", "-q", "-b", "main")
        git(repo, "commit", "-q", "--allow-empty", "-m", "initial")
        repos.append(Registry(repo))
    inputs = OptimizerInputs({}, 0.5, HISTORY)
    optimizer = AgentOptimizer(client)
    assert optimizer.step(repos[0], "math", inputs).usage.cached_calls == 0
    assert optimizer.step(repos[1], "math", inputs).usage.cached_calls == 1  # a resumed run pays nothing
    after_rollback = OptimizerInputs({}, 0.5, HISTORY, [FailedSet({"square": SQUARE["code"]}, 0.25)])
    assert optimizer.step(repos[2], "math", after_rollback).usage.cached_calls == 0
    assert len(server.requests) == 2


def test_terminate_in_answer_to_a_re_ask_ends_the_step(git_repo, serve, connect):
    """The error message offers TERMINATE, and taking it ends the whole step: intended, and said so."""
    registry = Registry(git_repo)
    server = serve(script=[tool_call("add_function", SYNTAX_ERROR), text("TERMINATE")])
    result = AgentOptimizer(connect(server), max_actions=3).step(registry, "math", inputs_for(registry))
    assert result.terminated and result.applied == [] and result.requests == 2
    (rejection,) = result.rejected
    reply = tool_messages(server.requests[1])[0]
    assert reply.endswith(
        "Correct this add_function call and send it again, or reply TERMINATE to end this step without it."
    )


def test_a_re_ask_carries_no_commit_id(git_repo, serve, connect):
    """Commit ids differ on every run: in a re-ask they would keep the request out of the response cache."""
    registry = Registry(git_repo)
    both = Message(tool_calls=[tool_call("add_function", SQUARE), tool_call("add_function", SYNTAX_ERROR)])
    server = serve(
        script=[
            both,
            tool_call("add_function", dict(SQUARE, name="cube", code=SQUARE["code"].replace("square", "cube"))),
        ]
    )
    AgentOptimizer(connect(server), max_actions=2).step(registry, "math", inputs_for(registry))
    applied = tool_messages(server.requests[1])[0]
    assert applied == "applied: add_function square"
