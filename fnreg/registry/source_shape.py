"""Whether source is shaped so that libcst and black can take it: checked with ``ast`` first.

libcst's native parser recurses once per nesting level and overflows the C stack, killing the
process with SIGSEGV, at a few thousand levels (``((((...))))``, ``not not not ...``, a long
``elif`` chain, ``import a.b.b.b...``); its visitors and black's raise ``RecursionError`` much
earlier (an operator chain of 600 terms). CPython's own parser is guarded: it answers too much
nesting with ``SyntaxError``, ``RecursionError`` or ``MemoryError``. So every source fnreg hands
to libcst or black is parsed with ``ast`` first and measured, and anything nested deeper than
:data:`MAX_NESTING` levels is refused in words.

The measure is libcst's nesting, not ``ast``'s: where ``ast`` keeps a flat list, libcst nests one
node per item, so those items count as levels too (``a and b and c``, implicitly concatenated
strings ``"a" "b" "c"``, the parts of a dotted module name).
"""

from __future__ import annotations

import ast
import io
import tokenize

__all__ = ["MAX_NESTING", "SourceTooDeep", "check_shape"]

#: Deepest nesting accepted. The whole build (libcst, fnreg's checks, black) survives about 400
#: levels at Python's default recursion limit; real code rarely nests 30.
MAX_NESTING = 100

# What CPython's parser says when a source nests past its own limits.
_NESTING_MESSAGES = ("too many nested parentheses", "too many levels of indentation", "too complex", "too deeply")


class SourceTooDeep(ValueError):
    """Source nested deeper than fnreg's parsers can take; the message says where."""


def check_shape(source: str) -> ast.Module:
    """``source`` parsed by ``ast``, when libcst and black can take it too.

    Raises :class:`SourceTooDeep` for nesting beyond :data:`MAX_NESTING` (also when CPython's
    parser gives up on it), and ``SyntaxError`` for any other syntax error: the caller words it.
    """
    source = source.removeprefix("\ufeff")  # a byte-order mark, which libcst skips and ast refuses
    try:
        tree = ast.parse(source)
    except (RecursionError, MemoryError):
        raise SourceTooDeep(_too_deep(None)) from None
    except SyntaxError as exc:
        if any(text in (exc.msg or "") for text in _NESTING_MESSAGES):
            raise SourceTooDeep(_too_deep(exc.lineno)) from None
        raise
    except UnicodeError:  # an unpaired surrogate: not text a file can hold
        raise
    except ValueError as exc:  # "source code string cannot contain null bytes"
        raise SyntaxError(str(exc)) from None
    _Measure(source).check(tree)
    return tree


def _too_deep(line: int | None) -> str:
    where = f" at line {line}" if line else ""
    return f"code is nested more than {MAX_NESTING} levels deep{where}; split it into simpler statements"


#: The node types :meth:`_Measure._flat_levels` may count more than one level for.
_FLAT = frozenset({ast.BoolOp, ast.Import, ast.ImportFrom, ast.JoinedStr, ast.Constant})


class _Measure:
    """Walks an ``ast`` tree without recursion, counting levels as libcst will nest them."""

    def __init__(self, source: str) -> None:
        self.source = source
        self._lines: list[str] | None = None

    def check(self, tree: ast.AST) -> None:
        # Every module fnreg lists is measured (1,000 of them for a big toolset): the children are
        # read inline rather than through ast.iter_child_nodes' generator, and only the few node
        # types libcst nests more deeply than ast are looked at twice.
        stack: list[tuple[ast.AST, int]] = [(tree, 0)]
        pop, push, AST = stack.pop, stack.append, ast.AST
        while stack:
            node, depth = pop()
            depth += 1
            if type(node) in _FLAT:
                depth += self._flat_levels(node)
            if depth > MAX_NESTING:
                raise SourceTooDeep(_too_deep(getattr(node, "lineno", None)))
            if type(node) is ast.JoinedStr:  # its parts are the f-string's own pieces
                stack.extend((value.value, depth) for value in node.values if isinstance(value, ast.FormattedValue))
                continue
            for name in node._fields:
                child = getattr(node, name, None)
                if isinstance(child, AST):
                    push((child, depth))
                elif type(child) is list:
                    for item in child:
                        if isinstance(item, AST):
                            push((item, depth))

    def _flat_levels(self, node: ast.AST) -> int:
        """Levels libcst adds for what ``ast`` keeps flat."""
        if isinstance(node, ast.BoolOp):
            return len(node.values) - 2
        if isinstance(node, ast.Import):
            return max((alias.name.count(".") for alias in node.names), default=0)
        if isinstance(node, ast.ImportFrom):
            return (node.module or "").count(".")
        if isinstance(node, ast.JoinedStr) or (isinstance(node, ast.Constant) and isinstance(node.value, (str, bytes))):
            return max(0, self._string_parts(node) - 1)
        return 0

    def _string_parts(self, node: ast.expr) -> int:
        """How many literals make up this string (``"a" "b"`` is two): counted only when it could matter."""
        segment = self._segment(node)
        if segment is None or segment.count('"') + segment.count("'") <= 2 * MAX_NESTING:
            return 1
        try:
            tokens = tokenize.generate_tokens(io.StringIO(segment).readline)
            return sum(1 for token in tokens if token.type == tokenize.STRING)
        except (tokenize.TokenError, SyntaxError):
            return 1

    def _segment(self, node: ast.expr) -> str | None:
        end_line, end_col = getattr(node, "end_lineno", None), getattr(node, "end_col_offset", None)
        if end_line is None or end_col is None:
            return None
        if self._lines is None:
            # Lines as ast counts them: \n, \r\n and \r end a line, form feeds and the like do not.
            self._lines = io.StringIO(self.source, newline="").readlines()
        lines = self._lines[node.lineno - 1 : end_line]
        if not lines:
            return None
        # Offsets count UTF-8 bytes.
        if len(lines) == 1:
            return lines[0].encode("utf-8")[node.col_offset : end_col].decode("utf-8", "replace")
        first = lines[0].encode("utf-8")[node.col_offset :].decode("utf-8", "replace")
        last = lines[-1].encode("utf-8")[:end_col].decode("utf-8", "replace")
        return first + "".join(lines[1:-1]) + last
