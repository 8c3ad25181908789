"""Shape figures of kernel bodies (Python AST): expression depth, literals per statement, long lines, size."""

from __future__ import annotations

import ast
import statistics
from dataclasses import dataclass, field

LONG_LINE = 100


def expression_depth(node: ast.AST) -> int:
    """Nesting depth of an expression: a name or literal is 1, each operator or call adds 1
    (``wp.x`` and ``a.b`` count as names; a call's function is not an operand)."""
    if isinstance(node, (ast.Name, ast.Constant)):
        return 1
    if isinstance(node, ast.Attribute):
        return expression_depth(node.value)
    if isinstance(node, ast.Call):
        kids = [expression_depth(a) for a in node.args] + [expression_depth(k.value) for k in node.keywords]
        return 1 + max(kids, default=0)
    kids = [expression_depth(c) for c in ast.iter_child_nodes(node) if isinstance(c, ast.expr)]
    return 1 + max(kids, default=0)


def _statement_expressions(stmt: ast.stmt) -> list[ast.expr]:
    if isinstance(stmt, (ast.If, ast.While)):
        return [stmt.test]
    if isinstance(stmt, ast.For):
        return [stmt.iter]
    return [c for c in ast.iter_child_nodes(stmt) if isinstance(c, ast.expr)]


def _is_number(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool)


def _is_kernel(node: ast.AST) -> bool:
    """``@wp.kernel``, ``@warp.kernel`` or ``@wp.kernel(enable_backward=...)``."""
    decorators = [d.func if isinstance(d, ast.Call) else d for d in getattr(node, "decorator_list", [])]
    return isinstance(node, ast.FunctionDef) and any(ast.unparse(d).endswith("kernel") for d in decorators)


@dataclass
class Profile:
    """Accumulated figures over many kernels."""

    depths: list[int] = field(default_factory=list)
    statements: list[int] = field(default_factory=list)  # per kernel
    literals: int = 0
    lines: int = 0
    long_lines: int = 0

    def add_source(self, source: str) -> None:
        """Add every ``@wp.kernel`` function of a module (factory-made ones included)."""
        lines = source.splitlines()
        for node in ast.walk(ast.parse(source)):
            if _is_kernel(node):
                self.add_kernel(node, lines)

    def add_kernel(self, func: ast.FunctionDef, lines: list[str]) -> None:
        stmts = [s for s in ast.walk(func) if isinstance(s, ast.stmt) and s is not func]
        self.statements.append(len(stmts))
        for stmt in stmts:
            for expr in _statement_expressions(stmt):
                self.depths.append(expression_depth(expr))
                self.literals += sum(1 for n in ast.walk(expr) if _is_number(n))
        body = lines[func.body[0].lineno - 1 : func.end_lineno]
        self.lines += len(body)
        self.long_lines += sum(1 for line in body if len(line) > LONG_LINE)

    def figures(self) -> dict[str, float]:
        sizes = sorted(self.statements) or [0]
        return {
            "kernels": len(self.statements),
            "mean_expression_depth": statistics.mean(self.depths) if self.depths else 0.0,
            "literals_per_statement": self.literals / max(sum(self.statements), 1),
            "long_line_share": self.long_lines / max(self.lines, 1),
            "statements_median": statistics.median(sizes),
            "statements_p90": sizes[int(0.9 * (len(sizes) - 1))],
        }
