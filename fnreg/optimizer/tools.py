"""The optimizer's actions as OpenAI tools (paper §3.2), and the worked example its prompt shows.

The wording is fnreg's own. Two things differ from the reference on purpose: the example in
the prompt is valid JSON (the reference's has a trailing comma), and ``code`` may hold the
whole ``def`` (fnreg's module builder accepts a body too, but a complete function is less
ambiguous for the model and for the reviewer).
"""

from __future__ import annotations

import json
from typing import Any

ADD = "add_function"
REVISE = "revise_function"
REMOVE = "remove_function"

_NAME = {
    "type": "string",
    "description": "The function's name: lowercase snake_case, the same as the `def` in `code`.",
}
_REASON = {
    "type": "string",
    "description": "Optional: one or two sentences on why this change should help; kept in the commit message.",
}
_SIGNATURE_PROPERTIES: dict[str, Any] = {
    "name": _NAME,
    "description": {
        "type": "string",
        "description": "What the function does and returns, for the assistant that will call it.",
    },
    "arguments": {
        "type": "string",
        "description": (
            "JSON schema of the arguments encoded as a string: a JSON object mapping each parameter name to "
            'its schema, e.g. {"expression": {"type": "string", "description": "The expression to evaluate."}}. '
            "Types: string, integer, number, boolean, array (give `items`), object. A parameter with a "
            '`default` is optional; every other one is required. Use "{}" for no parameters.'
        ),
    },
    "packages": {
        "type": "string",
        "description": (
            'Third-party packages the code imports, as pip names separated by spaces (e.g. "sympy numpy"); '
            "an empty string when it needs only the standard library. They are recorded, not installed."
        ),
    },
    "code": {
        "type": "string",
        "description": (
            "The Python implementation: imports, then `def <name>(...)` with exactly the parameters in "
            "`arguments`, returning the result. Private helpers (names starting with _) may come first."
        ),
    },
    "reason": _REASON,
}
_SIGNATURE_REQUIRED = ["name", "description", "arguments", "packages", "code"]


def _tool(name: str, description: str, properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {
        "type": "function",
        "function": {
            "name": name,
            "description": description,
            "parameters": {"type": "object", "properties": properties, "required": required},
        },
    }


ADD_FUNCTION = _tool(
    ADD,
    "Add one new function to List B. Its name must not be in List B yet; declare the packages it imports.",
    _SIGNATURE_PROPERTIES,
    _SIGNATURE_REQUIRED,
)
REVISE_FUNCTION = _tool(
    REVISE,
    "Replace one function of List B with a new version (description, arguments, packages and code in full).",
    _SIGNATURE_PROPERTIES,
    _SIGNATURE_REQUIRED,
)
REMOVE_FUNCTION = _tool(
    REMOVE,
    "Remove one function from List B; the assistant will no longer be able to call it.",
    {"name": {"type": "string", "description": "The name of the function to remove."}, "reason": _REASON},
    ["name"],
)
ACTION_TOOLS: list[dict[str, Any]] = [ADD_FUNCTION, REVISE_FUNCTION, REMOVE_FUNCTION]
ACTION_NAMES = (ADD, REVISE, REMOVE)

#: The arguments of an ``add_function`` call for a MATH-style agent (paper's example, reworked).
EXAMPLE_ACTION: dict[str, str] = {
    "name": "evaluate_expression",
    "description": "Evaluate an arithmetic or symbolic expression given as a string and return the exact result as text.",
    "arguments": json.dumps(
        {"expression": {"type": "string", "description": 'The expression in SymPy syntax, e.g. "sqrt(8) + 1/3".'}}
    ),
    "packages": "sympy",
    "code": (
        "from sympy import SympifyError, nsimplify, sympify\n"
        "\n"
        "\n"
        "def evaluate_expression(expression: str) -> str:\n"
        "    try:\n"
        "        value = sympify(expression)\n"
        "    except (SympifyError, SyntaxError) as exc:\n"
        '        return f"could not parse {expression!r}: {exc}"\n'
        "    return str(nsimplify(value) if value.is_number else value)\n"
    ),
}


def example_json() -> str:
    """The example action as the prompt shows it: indented, valid JSON."""
    return json.dumps(EXAMPLE_ACTION, indent=2)
