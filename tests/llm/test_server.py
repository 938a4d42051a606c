"""The loopback ChatServer speaks the protocol well enough for the real openai client."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request

import openai
import pytest

from fnreg.testing.server import ChatServer, Fault, FunctionCall, Message, echo_policy, text, tool_call


def _post(server: ChatServer, body: dict) -> tuple[int, dict]:
    request = urllib.request.Request(
        server.base_url + "/chat/completions",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_openai_client_reads_a_scripted_completion(serve) -> None:
    server = serve(script=[text("four")])
    client = openai.OpenAI(base_url=server.base_url, api_key="x", max_retries=0)
    completion = client.chat.completions.create(model="m", messages=[{"role": "user", "content": "2+2?"}])
    assert completion.choices[0].message.content == "four"
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage is not None and completion.usage.prompt_tokens > 0
    assert server.requests[0]["messages"][0]["content"] == "2+2?"
    client.close()


def test_tool_calls_and_models_endpoint(serve) -> None:
    calls = Message(tool_calls=[tool_call("add", {"a": 1}), FunctionCall("neg", '{"x": 2}', id="call_x")])
    server = serve(script=[calls], model_names=["a", "b"])
    client = openai.OpenAI(base_url=server.base_url, api_key="x", max_retries=0)
    message = client.chat.completions.create(model="a", messages=[{"role": "user", "content": "go"}])
    choice = message.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert [c.function.name for c in choice.message.tool_calls] == ["add", "neg"]
    assert choice.message.tool_calls[1].id == "call_x"
    assert choice.message.tool_calls[0].id  # generated
    assert [m.id for m in client.models.list()] == ["a", "b"]
    client.close()


def test_stream_is_rejected_and_script_exhaustion_is_explicit(serve) -> None:
    server = serve(script=["only one"])
    status, body = _post(server, {"model": "m", "messages": [{"role": "user", "content": "x"}], "stream": True})
    assert status == 400 and "streaming is not supported" in body["error"]["message"]
    assert _post(server, {"model": "m", "messages": [{"role": "user", "content": "x"}]})[0] == 200
    status, body = _post(server, {"model": "m", "messages": [{"role": "user", "content": "x"}]})
    assert status == 500 and "script exhausted" in body["error"]["message"]


def test_policy_sees_the_request_and_errors_are_reported(serve) -> None:
    def policy(request: dict) -> str:
        if request["messages"][-1]["content"] == "boom":
            raise ValueError("policy bug")
        return request["messages"][-1]["content"].upper()

    server = serve(policy)
    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
    assert _post(server, body)[1]["choices"][0]["message"]["content"] == "HI"
    status, error = _post(server, {**body, "messages": [{"role": "user", "content": "boom"}]})
    assert status == 500 and "policy raised ValueError: policy bug" in error["error"]["message"]


def test_fault_statuses_and_retry_after(serve) -> None:
    server = serve(script=[Fault(status=429, retry_after=3), Fault(status=401)])
    client = openai.OpenAI(base_url=server.base_url, api_key="x", max_retries=0)
    with pytest.raises(openai.RateLimitError) as rate:
        client.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}])
    assert rate.value.response.headers["retry-after"] == "3"
    with pytest.raises(openai.AuthenticationError):
        client.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}])
    client.close()


def test_sixty_four_concurrent_requests(serve) -> None:
    # Each request is held until 33 have arrived: only a server that really serves that many at
    # once answers them without the 20 s fallback, however loaded the machine is.
    arrived, lock, gate = [0], threading.Lock(), threading.Event()

    def held(request: dict):
        with lock:
            arrived[0] += 1
            if arrived[0] >= 33:
                gate.set()
        gate.wait(timeout=20)
        return echo_policy(request)

    server = serve(policy=held)
    client = openai.OpenAI(base_url=server.base_url, api_key="x", max_retries=0, timeout=30)
    answers: list[str] = []

    def ask(i: int) -> None:
        result = client.chat.completions.create(model="m", messages=[{"role": "user", "content": f"q{i}"}])
        answers.append(result.choices[0].message.content or "")

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(64)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(answers) == sorted(f"echo: q{i}" for i in range(64))
    assert gate.is_set() and server.max_in_flight > 32  # they really overlapped
    client.close()


def test_stop_closes_kept_alive_connections(serve) -> None:
    server = serve()
    client = openai.OpenAI(base_url=server.base_url, api_key="x", max_retries=0, timeout=2)
    client.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}])
    server.stop()
    with pytest.raises(openai.APIConnectionError):
        client.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}])
    client.close()


def test_quiet(serve, capfd: pytest.CaptureFixture[str]) -> None:
    server = serve(script=[Fault(drop=True), Fault(delay=0.5)])
    client = openai.OpenAI(base_url=server.base_url, api_key="x", max_retries=0, timeout=0.1)
    for _ in range(2):
        with pytest.raises(openai.APIConnectionError):
            client.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}])
    client.close()
    server.stop()
    assert capfd.readouterr().err == ""
