"""Realistic MATH-style agent conversations for prompt-size tests and the benchmark.

Each looks like what fnreg's tools agent records: the agent's system prompt, the task, one to
four python tool calls (sympy code) whose outputs range from a line to a long dump or a
traceback, and a final ``\\boxed{}`` answer. Seeded, so every run generates the same data.
"""

from __future__ import annotations

import json
import random
from typing import Any

from fnreg.optimizer import Experience

SYSTEM = (
    "You are a careful problem solver. Use the available functions and the python tool when they help; "
    "check their results. They are also importable in the python tool: `from registry.math import <name>`. "
    "When you are done, reply with the final answer and no tool call."
)
PROBLEMS = [
    "Find the sum of all real solutions of $x^2 - {a}x + {b} = 0$.",
    "How many positive divisors does ${n}$ have?",
    "Compute $\\sum_{{k=1}}^{{{a}}} k^2 \\pmod{{{b}}}$.",
    "The sequence $a_1 = {a}$, $a_{{n+1}} = a_n^2 - {b}$. Find $a_5 \\bmod 1000$.",
    "Simplify $\\sqrt{{{n}}} + \\sqrt{{{a}}}$ and give the result in simplest radical form.",
    "A bag holds {a} red and {b} blue marbles. Two are drawn without replacement. What is the probability both are red?",
]
CODE = [
    "import sympy as sp\nx = sp.symbols('x')\nsolutions = sp.solve(x**2 - {a}*x + {b}, x)\nprint(solutions, sum(solutions))",
    "from sympy import divisors\nds = divisors({n})\nprint(len(ds))\nprint(ds)",
    "total = 0\nfor k in range(1, {a} + 1):\n    total += k**2\n    print(k, total)\nprint(total % {b})",
    "a = {a}\nfor n in range(1, 5):\n    a = a**2 - {b}\n    print(n + 1, a)\nprint(a % 1000)",
    "from sympy import sqrt, nsimplify\nprint(nsimplify(sqrt({n}) + sqrt({a})))",
    "from fractions import Fraction\nprint(Fraction({a}, {a} + {b}) * Fraction({a} - 1, {a} + {b} - 1))",
]
TRACEBACK = (
    'Traceback (most recent call last):\n  File "<cell>", line {line}, in <module>\n'
    '  File "/usr/lib/python3/site-packages/sympy/core/sympify.py", line 495, in sympify\n'
    "    raise SympifyError(a)\nsympy.core.sympify.SympifyError: SympifyError: '{expr}'"
)


def _output(rng: random.Random, values: dict[str, int]) -> str:
    """A tool output: short, a long dump (a loop that printed every step), or a traceback."""
    kind = rng.random()
    if kind < 0.45:
        return f"{rng.randint(1, 10_000)}\n"
    if kind < 0.8:
        rows = rng.randint(150, 900)  # a loop printing each step: 2-20k characters
        total, lines = 0, []
        for k in range(1, rows + 1):
            total += k * k
            lines.append(f"{k} {total}")
        return "\n".join(lines) + "\n"
    return TRACEBACK.format(line=rng.randint(1, 9), expr=f"x**{values['a']} +* {values['b']}")


def conversation(rng: random.Random) -> list[dict[str, Any]]:
    values = {"a": rng.randint(2, 60), "b": rng.randint(2, 99), "n": rng.randint(100, 99_999)}
    choice = rng.randrange(len(PROBLEMS))
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": SYSTEM},
        {
            "role": "user",
            "content": "Solve the problem. Put the final answer in \\boxed{}.\n\n" + PROBLEMS[choice].format(**values),
        },
    ]
    for turn in range(rng.randint(1, 4)):
        call_id = f"call_{rng.getrandbits(40):010x}"
        code = CODE[(choice + turn) % len(CODE)].format(**values)
        thought = (
            "Let me compute this with Python." if turn == 0 else "That did not settle it; let me check another way."
        )
        messages.append(
            {
                "role": "assistant",
                "content": thought,
                "tool_calls": [
                    {
                        "id": call_id,
                        "type": "function",
                        "function": {"name": "python", "arguments": json.dumps({"code": code})},
                    }
                ],
            }
        )
        messages.append({"role": "tool", "tool_call_id": call_id, "content": _output(rng, values)})
    messages.append({"role": "assistant", "content": f"So the answer is $\\boxed{{{rng.randint(1, 999)}}}$."})
    return messages


def math_histories(count: int, *, seed: int = 7, failed_share: float = 0.4) -> list[Experience]:
    """``count`` conversations, about ``failed_share`` of them failed, with task ids ``math-0``..."""
    rng = random.Random(seed)
    return [
        Experience(messages=conversation(rng), satisfied=rng.random() >= failed_share, task_id=f"math-{i}")
        for i in range(count)
    ]
