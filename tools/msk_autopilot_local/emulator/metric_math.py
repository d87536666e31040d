"""CloudWatch metric math, the part alarms use, for the emulator's alarm evaluation.

``MathExpression(text)`` reads an expression with Python's ``ast`` (never ``eval``) and accepts
only: numbers; query ids (``m1``, ``e1``: CloudWatch's ids start with a lowercase letter);
``+ - * /`` and a leading ``-``; parentheses; ``ABS(x)``; and ``MAX``, ``MIN``, ``SUM``, ``AVG``
of a list of series (``MAX([m1, m2])``), which gives a series. Anything else raises
``UnsupportedExpression`` saying what is not supported.

``evaluate(resolve)`` computes it over series, each a value per period keyed by the period's
start, as CloudWatch does: an operation between two series keeps only the periods both have
a value for (a period missing in one operand is missing in the result), the same holds for
the series of a list, and a number applies to every period. A division by zero leaves that
period without a value. An alarm needs a series: an expression that gives a number raises
``UnsupportedExpression`` too.
"""

from __future__ import annotations

import ast
import math
import operator
import re
import statistics
from collections.abc import Callable
from datetime import datetime

__all__ = ["MathExpression", "Series", "UnsupportedExpression"]

type Series = dict[datetime, float]
type _Value = Series | float

_OPERATORS: dict[type[ast.operator], Callable[[float, float], float]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}
_AGGREGATES: dict[str, Callable[[list[float]], float]] = {
    "MAX": max,
    "MIN": min,
    "SUM": math.fsum,
    "AVG": statistics.fmean,
}
_QUERY_ID = re.compile(r"[a-z][A-Za-z0-9_]*\Z")


class UnsupportedExpression(ValueError):
    """An expression outside the metric math the emulator evaluates."""


class MathExpression:
    """One metric-math expression, checked against the supported subset when it is made."""

    def __init__(self, text: str) -> None:
        self.text = text
        try:
            tree = ast.parse(text.strip(), mode="eval")
        except SyntaxError:
            raise UnsupportedExpression(
                f"{text!r} is not an expression the emulator reads"
            ) from None
        self._body = tree.body
        self.ids = frozenset(self._check(self._body))

    def evaluate(self, resolve: Callable[[str], Series]) -> Series:
        """The expression's series, with `resolve` giving the series of each query id."""
        value = self._value(self._body, resolve)
        if not isinstance(value, dict):
            raise UnsupportedExpression(f"{self.text!r} gives a number, not a time series")
        return value

    def _check(self, node: ast.expr) -> set[str]:
        """The query ids `node` reads; raises on anything outside the subset."""
        match node:
            case ast.Constant(value=int() | float() as number) if not isinstance(number, bool):
                return set()
            case ast.Name(id=name) if _QUERY_ID.match(name):
                return {name}
            case ast.BinOp(left=left, op=op, right=right) if type(op) in _OPERATORS:
                return self._check(left) | self._check(right)
            case ast.UnaryOp(op=ast.USub() | ast.UAdd(), operand=operand):
                return self._check(operand)
            case ast.Call(func=ast.Name(id="ABS"), args=[argument], keywords=[]):
                return self._check(argument)
            case ast.Call(func=ast.Name(id=name), args=[ast.List(elts=items)], keywords=[]) if (
                name in _AGGREGATES and items
            ):
                return set().union(*(self._check(item) for item in items))
        part = ast.get_source_segment(self.text.strip(), node) or ast.dump(node)
        where = "" if part == self.text.strip() else f" in {self.text!r}"
        raise UnsupportedExpression(f"{part!r}{where} is not supported metric math")

    def _value(self, node: ast.expr, resolve: Callable[[str], Series]) -> _Value:
        # Only what _check accepted reaches here.
        match node:
            case ast.Constant(value=int() | float() as number):
                return float(number)
            case ast.Name(id=name):
                return resolve(name)
            case ast.BinOp(left=left, op=op, right=right):
                return _apply(
                    _OPERATORS[type(op)], self._value(left, resolve), self._value(right, resolve)
                )
            case ast.UnaryOp(op=op, operand=operand):
                sign = -1.0 if isinstance(op, ast.USub) else 1.0
                return _apply(operator.mul, sign, self._value(operand, resolve))
            case ast.Call(func=ast.Name(id="ABS"), args=[argument]):
                value = self._value(argument, resolve)
                return (
                    {at: abs(v) for at, v in value.items()}
                    if isinstance(value, dict)
                    else abs(value)
                )
            case ast.Call(func=ast.Name(id=name), args=[ast.List(elts=items)]):
                return self._aggregate(name, [self._value(item, resolve) for item in items])
        raise AssertionError(f"unchecked node {ast.dump(node)}")

    def _aggregate(self, name: str, values: list[_Value]) -> Series:
        series = [value for value in values if isinstance(value, dict)]
        if len(series) != len(values):
            raise UnsupportedExpression(f"{name} in {self.text!r} takes a list of series only")
        shared = set.intersection(*(set(one) for one in series))
        return {at: _AGGREGATES[name]([one[at] for one in series]) for at in sorted(shared)}


def _apply(operation: Callable[[float, float], float], left: _Value, right: _Value) -> _Value:
    if isinstance(left, dict):
        if isinstance(right, dict):
            shared = left.keys() & right.keys()
            return _defined({at: _point(operation, left[at], right[at]) for at in shared})
        return _defined({at: _point(operation, value, right) for at, value in left.items()})
    if isinstance(right, dict):
        return _defined({at: _point(operation, left, value) for at, value in right.items()})
    return _point(operation, left, right)


def _point(operation: Callable[[float, float], float], left: float, right: float) -> float:
    try:
        return operation(left, right)
    except ZeroDivisionError:
        return math.nan  # no value for that period


def _defined(series: Series) -> Series:
    return {at: series[at] for at in sorted(series) if not math.isnan(series[at])}
