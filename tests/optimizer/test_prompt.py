"""The optimizer's request: what it contains, in what order, and that it stays inside its budget."""

from __future__ import annotations

import json
import re
import time

import pytest

from fnreg.errors import ConfigError
from fnreg.llm import LLMClient, LLMSettings, count_message_tokens
from fnreg.optimizer import (
    ACTION_TOOLS,
    EXAMPLE_ACTION,
    AgentOptimizer,
    Experience,
    FailedSet,
    OptimizerError,
    OptimizerInputs,
)
from fnreg.optimizer.prompt import MAX_FAILED_SETS
from fnreg.registry import Registry
from fnreg.testing.server import text
from tests.optimizer.synthetic import math_histories

SOURCES = {
    "square": '"""Square an integer."""\n\n\ndef square(x: int) -> int:\n    """Square an integer."""\n    return x * x\n',
    "halve": '"""Halve an integer."""\n\n\ndef halve(x: int) -> float:\n    """Halve an integer."""\n    return x / 2\n',
}


def optimizer(budget: int = 96_000) -> AgentOptimizer:
    # Building messages sends nothing: no endpoint is contacted.
    client = LLMClient(LLMSettings(base_url="http://127.0.0.1:9/v1", model="gpt-4o", max_retries=0))
    return AgentOptimizer(client, prompt_budget=budget)


def user_text(messages: list[dict]) -> str:
    assert [m["role"] for m in messages] == ["system", "user"]
    return messages[1]["content"]


def test_the_example_action_is_valid_json_and_a_valid_action(git_repo):
    system = optimizer().build_messages(OptimizerInputs({}, 0.0, []), {}, 0)[0]["content"]
    example = system[system.index("{", system.index("Example arguments")) :]
    assert json.loads(example) == EXAMPLE_ACTION
    _, module = Registry(git_repo).prepare({"action": "add_function", **EXAMPLE_ACTION}, toolset="math")
    assert module is not None and "def evaluate_expression(" in module.source


def test_tool_schemas_require_every_signature_part():
    by_name = {t["function"]["name"]: t["function"]["parameters"] for t in ACTION_TOOLS}
    assert by_name["add_function"]["required"] == ["name", "description", "arguments", "packages", "code"]
    assert by_name["revise_function"]["required"] == by_name["add_function"]["required"]
    assert by_name["remove_function"]["required"] == ["name"]


def test_lists_score_statistics_and_identical_list_b():
    histories = [
        Experience([{"role": "user", "content": f"task {i}"}], satisfied=i % 3 != 0, task_id=f"t{i}") for i in range(6)
    ]
    content = user_text(optimizer().build_messages(OptimizerInputs(SOURCES, 0.6667, histories), SOURCES, 0))
    assert "success rate 66.7%" in content
    assert content.index("### halve") < content.index("### square")  # name order
    assert "List B is identical to List A." in content and content.count("def square") == 1
    assert "4 of 6 tasks scored 1" in content and "Tasks that scored 0: t0, t3." in content


def test_list_b_shows_only_what_changed():
    current = {
        "square": SOURCES["square"].replace("x * x", "x**2"),
        "cube": "def cube(x: int) -> int:\n    return x**3\n",
    }
    content = user_text(optimizer().build_messages(OptimizerInputs(SOURCES, 0.5, []), current, 2))
    list_b = content[content.index("## List B") :]
    assert "after 2 actions on List A" in list_b
    assert "### cube (added)" in list_b and "### square (revised)" in list_b and "x**2" in list_b
    assert "Removed from List A: halve." in list_b and "### halve" not in list_b


def test_failed_histories_come_first():
    histories = [
        Experience([{"role": "user", "content": f"problem {i}"}], satisfied=i % 2 == 0, task_id=f"p{i}")
        for i in range(10)
    ]
    content = user_text(optimizer().build_messages(OptimizerInputs({}, 0.5, histories), {}, 0))
    verdicts = re.findall(r"### Conversation #\d+ \(task p\d+\): (FAILED|SOLVED)", content)
    assert verdicts == ["FAILED"] * 5 + ["SOLVED"] * 5


def test_failed_sets_in_ascending_score_as_diffs():
    failures = [
        FailedSet({**SOURCES, "square": SOURCES["square"].replace("x * x", "x + x")}, 0.4),
        FailedSet({"square": SOURCES["square"]}, 0.1),
        FailedSet(dict(SOURCES), 0.3),
    ]
    content = user_text(optimizer().build_messages(OptimizerInputs(SOURCES, 0.5, [], failures), SOURCES, 0))
    assert re.findall(r"### Failed set \d: success rate ([\d.]+)%", content) == ["10.0", "30.0", "40.0"]
    assert "-    return x * x\n+    return x + x" in content  # a diff, not the whole set again
    assert "--- a/halve.py\n+++ /dev/null" in content  # the set without halve
    assert "(identical to List A)" in content


def test_only_the_newest_failed_sets_are_shown():
    failures = [FailedSet({"f": f"def f():\n    return {n}\n"}, n / 100) for n in range(MAX_FAILED_SETS + 3)]
    content = user_text(optimizer().build_messages(OptimizerInputs({}, 0.5, [], failures), {}, 0))
    assert "3 older failed sets not shown" in content
    assert f"return {MAX_FAILED_SETS + 2}" in content and "return 2\n" not in content


def test_long_outputs_are_truncated_with_a_marker():
    long_output = "\n".join(f"{k} {k * k}" for k in range(5_000)) + "\nZeroDivisionError: division by zero"
    messages = [
        {"role": "user", "content": "Compute."},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "python", "arguments": '{"code": "1/0"}'}}
            ],
        },
        {"role": "tool", "tool_call_id": "c1", "content": long_output},
    ]
    content = user_text(optimizer().build_messages(OptimizerInputs({}, 0.0, [Experience(messages, False)]), {}, 0))
    assert re.search(r"\[\.\.\. \d+ characters truncated \.\.\.\]", content)
    assert "[python returned]" in content and "ZeroDivisionError: division by zero" in content  # the tail is kept


def test_prompt_budget_holds_for_2000_conversations_and_is_deterministic():
    histories = math_histories(2_000)
    failures = [FailedSet({**SOURCES, "square": SOURCES["square"].replace("x * x", "x**2")}, 0.3)]
    inputs = OptimizerInputs(SOURCES, 0.6, histories, failures)
    started = time.perf_counter()
    messages = optimizer().build_messages(inputs, SOURCES, 1)
    elapsed = time.perf_counter() - started
    tokens = count_message_tokens(messages, ACTION_TOOLS, "gpt-4o")
    assert 80_000 < tokens <= 96_000
    assert elapsed < 5.0, f"building the request took {elapsed:.2f}s"
    assert json.dumps(optimizer().build_messages(inputs, SOURCES, 1)) == json.dumps(messages)
    content = user_text(messages)
    failed = sum(not h.satisfied for h in histories)
    shown = re.findall(r"### Conversation #\d+ \(task math-\d+\): (FAILED|SOLVED)", content)
    assert shown and set(shown) == {"FAILED"}  # with 2,000 there is only room for failed ones
    assert f"Omitted to fit the prompt: {failed - len(shown)} failed and {2_000 - failed} solved" in content
    assert content.count(histories[0].messages[0]["content"]) == 1  # the agent's system prompt, once
    stats = content[content.index("Per-task results") :]
    assert len(stats) < 3_000 and "more." in stats


@pytest.mark.parametrize("budget", [4_000, 12_000, 30_000])
def test_smaller_budgets_hold_too(budget):
    inputs = OptimizerInputs(SOURCES, 0.6, math_histories(300, seed=budget))
    messages = optimizer(budget).build_messages(inputs, SOURCES, 0)
    assert count_message_tokens(messages, ACTION_TOOLS, "gpt-4o") <= budget


def test_a_step_with_2000_conversations_sends_a_bounded_request(git_repo, serve, connect):
    server = serve(script=[text("TERMINATE")])
    client = connect(server, model="gpt-4o")
    inputs = OptimizerInputs({}, 0.6, math_histories(2_000, seed=3))
    result = AgentOptimizer(client, prompt_budget=50_000).step(Registry(git_repo), "math", inputs)
    assert result.terminated and result.applied == []
    (request,) = server.requests
    assert count_message_tokens(request["messages"], request["tools"], "gpt-4o") <= 50_000
    assert request["tools"] == ACTION_TOOLS and request["tool_choice"] == "auto"


def test_function_lists_larger_than_the_budget_are_a_clear_error():
    huge = {f"f{n}": f"def f{n}():\n    return {'x' * 4_000!r}\n" for n in range(10)}
    with pytest.raises(OptimizerError, match="raise --prompt-budget"):
        optimizer(5_000).build_messages(OptimizerInputs(huge, 0.5, []), huge, 0)


def test_settings_are_checked():
    client = LLMClient(LLMSettings(base_url="http://127.0.0.1:9/v1"))
    with pytest.raises(ConfigError, match="max_actions"):
        AgentOptimizer(client, max_actions=0)
    with pytest.raises(ConfigError, match="prompt_budget"):
        AgentOptimizer(client, prompt_budget=10)


# ----------------------------------------------------------------------------- cut only when over budget


def _long_tool_output_history() -> Experience:
    long_output = "\n".join(f"{k} {k * k}" for k in range(800))  # ~7,000 characters: over the 1,500 cut
    messages = [
        {"role": "user", "content": "Compute."},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "python", "arguments": "{}"}}],
        },
        {"role": "tool", "tool_call_id": "c1", "content": long_output},
    ]
    return Experience(messages, False, "t1")


def _optimizer(budget: int = 96_000, **settings) -> AgentOptimizer:
    client = LLMClient(LLMSettings(base_url="http://127.0.0.1:9/v1", model="gpt-4o", max_retries=0))
    return AgentOptimizer(client, prompt_budget=budget, **settings)


def test_over_budget_clipping_sends_everything_whole_when_it_fits():
    failures = [FailedSet({"f": f"def f():\n    return {n}\n"}, n / 100) for n in range(MAX_FAILED_SETS + 3)]
    inputs = OptimizerInputs({}, 0.5, [_long_tool_output_history()], failures)
    cut = user_text(_optimizer().build_messages(inputs, {}, 0))
    assert "characters truncated" in cut and "3 older failed sets not shown" in cut
    whole = user_text(_optimizer(clip="over_budget").build_messages(inputs, {}, 0))
    assert "truncated" not in whole and "not shown" not in whole
    assert "799 638401" in whole and whole.count("### Failed set") == MAX_FAILED_SETS + 3


def test_over_budget_clipping_cuts_when_the_whole_request_does_not_fit():
    inputs = OptimizerInputs({}, 0.5, math_histories(400, seed=1))
    messages = _optimizer(20_000, clip="over_budget").build_messages(inputs, {}, 0)
    assert count_message_tokens(messages, ACTION_TOOLS, "gpt-4o") <= 20_000
    assert "Omitted to fit the prompt" in user_text(messages)


def test_answers_and_ground_truth_are_shown_when_asked():
    history = Experience(
        [{"role": "user", "content": "What is 13 squared?"}, {"role": "assistant", "content": "\\boxed{196}"}],
        False,
        "t2",
        answer="\\boxed{196}",
        gold="169",
    )
    inputs = OptimizerInputs({}, 0.0, [history])
    assert "[correct answer]" not in user_text(_optimizer().build_messages(inputs, {}, 0))
    shown = user_text(_optimizer(show_answers=True).build_messages(inputs, {}, 0))
    assert "[final answer] \\boxed{196}\n[correct answer] 169" in shown


def test_the_request_names_the_step_and_what_the_previous_one_did():
    inputs = OptimizerInputs({}, 0.5, [], step=4, steps=10, previous_step="(step 3) you replied TERMINATE.")
    content = user_text(_optimizer().build_messages(inputs, {}, 0))
    assert "## Training progress\nThis is step 4 of 10.\nPrevious step: (step 3) you replied TERMINATE." in content
    assert "Training progress" not in user_text(_optimizer().build_messages(OptimizerInputs({}, 0.5, []), {}, 0))


def test_terminate_ends_the_step_and_the_prompt_says_so():
    system = _optimizer().build_messages(OptimizerInputs({}, 0.5, []), {}, 0)[0]["content"]
    assert "TERMINATE ends the current step at once, also after an invalid proposal" in system


def test_one_shot_asks_for_every_action_in_one_reply():
    content = user_text(
        _optimizer(update="one_shot", max_actions=2).build_messages(OptimizerInputs({}, 0.5, []), {}, 0)
    )
    assert "take up to 2 actions on List B now, all in this one reply" in content
    with pytest.raises(ConfigError, match="update must be one of progressive, one_shot"):
        _optimizer(update="all_at_once")
