"""One algorithm object for R members whose hyperparameters differ: per-row tensors where they differ.

The members of a stacked sweep (:mod:`tailtamer.engine.stacked.loop`) are built one by one from their own configs
(so each is validated as a standalone run is). :func:`stack_objects` then merges them attribute by attribute
into one object of the same class:

* a value equal in every member stays as it is (a Python float stays a Python float, so those operations are
  the standalone run's operations bit for bit);
* floats that differ become a per-row tensor ``[R·n, 1, ...]`` (member r's value on its n rows), which
  broadcasts over the node-stacked state exactly as the scalar did over one member's rows;
* an object that knows how to stack itself (a ``stack_members(members, expand)`` method, such as the
  step size :class:`tailtamer.schedules.StepSize`: members sharing a schedule become per-row rates scaled by
  the one shared factor) does so;
* callables that differ otherwise become a :class:`RowValues` calling each member's own function and merging
  the results the same way;
* objects of one class (a compressor, a transform) are merged recursively; attributes a class lists in
  ``server_attributes`` (a local-update method's outer transform and step size) act on one row per member
  (the server's, :mod:`tailtamer.comm.server`), so their rows are ``[R, 1, ...]``.

Anything else that differs (an int that drives a loop, a string, a flag) cannot be stacked:
:class:`NotStackable` is raised and the caller runs those members one by one.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

import torch


class NotStackable(Exception):
    """The members differ in something that is not a float (or a function of floats)."""


class RowValues:
    """Calls each member's function with the same arguments and merges the results (:func:`merge`)."""

    def __init__(self, functions: Sequence[Callable[..., Any]], expand: RowExpander):
        self.functions, self.expand = list(functions), expand

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return merge([f(*args, **kwargs) for f in self.functions], self.expand)


class RowExpander:
    """``values → tensor [R·n, 1, …]`` (``trailing`` ones): member r's value on its n rows, in ``dtype`` (the
    run's dtype, so a float32 run multiplies by a float32 value as it does by a Python scalar).

    :meth:`rows64` gives the same rows in float64 (each value exactly) and :meth:`cast` converts such rows to
    the run's dtype, for objects that compute on the rows before rounding (``stack_members``)."""

    def __init__(self, members: int, n: int, trailing: int, dtype: torch.dtype, device: str | torch.device = "cpu"):
        self.members, self.n, self.trailing, self.dtype, self.device = members, n, trailing, dtype, device
        self.shape = (members * n,) + (1,) * trailing

    def per_run(self) -> RowExpander:
        """The same for tensors of one row per member (``[R, 1, …]``): a server's state and step size
        (:mod:`tailtamer.comm.server`)."""
        return RowExpander(self.members, 1, self.trailing, self.dtype, self.device)

    def rows64(self, values: Sequence[float]) -> torch.Tensor:
        t = torch.tensor([float(v) for v in values], dtype=torch.float64, device=self.device)
        return t.repeat_interleave(self.n).reshape(self.shape)

    def cast(self, rows: torch.Tensor) -> torch.Tensor:
        return rows if rows.dtype == self.dtype else rows.to(self.dtype)

    def __call__(self, values: Sequence[float]) -> torch.Tensor:
        return self.cast(self.rows64(values))  # one rounding of each float, as torch.tensor(values, dtype)


def _same(a: Any, b: Any) -> bool:
    if a is b:
        return True
    if type(a) is not type(b):
        return False
    if isinstance(a, torch.Tensor):
        return a.shape == b.shape and bool(torch.equal(a, b))
    if isinstance(a, (bool, int, float, str, bytes, type(None))):
        return a == b
    if isinstance(a, (tuple, list)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if dataclasses.is_dataclass(a) and not isinstance(a, type):
        return _same(vars(a), vars(b))  # value objects (a schedule): equal fields, the same object
    return False


def merge(values: Sequence[Any], expand: RowExpander) -> Any:
    """One value standing for every member's (see the module docstring)."""
    first = values[0]
    if all(_same(v, first) for v in values[1:]):
        return first
    if all(type(v) is float for v in values):
        return expand(values)
    if all(type(v) is type(first) for v in values):
        if isinstance(first, (tuple, list)) and all(len(v) == len(first) for v in values):
            return type(first)(merge([v[i] for v in values], expand) for i in range(len(first)))
        if isinstance(first, dict) and all(v.keys() == first.keys() for v in values):
            return {k: merge([v[k] for v in values], expand) for k in first}
        hook = getattr(first, "stack_members", None)
        stacked = hook(values, expand) if hook is not None else None
        if stacked is not None:
            return stacked
        if _is_function(first) or (callable(first) and _frozen(first)):
            return RowValues(values, expand)
        if hasattr(first, "__dict__") and not isinstance(first, type):
            return stack_objects(values, expand)
    raise NotStackable(
        f"the members differ in a value that is not a float: {first!r} vs "
        f"{next(v for v in values if not _same(v, first))!r}"
    )


def _frozen(o: Any) -> bool:
    """A frozen dataclass instance: a value object (a schedule) whose fields cannot be replaced by rows."""
    params = getattr(type(o), "__dataclass_params__", None)
    return bool(params is not None and params.frozen)


def _is_function(f: Any) -> bool:
    return callable(f) and type(f).__name__ in ("function", "method", "builtin_function_or_method", "partial")


def stack_objects(objects: Sequence[Any], expand: RowExpander) -> Any:
    """A shallow copy of ``objects[0]`` whose every attribute is :func:`merge` of the members' attributes; those
    its class names in ``server_attributes`` act on one row per member (a server's model, :mod:`tailtamer.comm.server`)
    and are merged with :meth:`RowExpander.per_run`."""
    first = objects[0]
    server = set(getattr(type(first), "server_attributes", ()))
    out = copy.copy(first)
    attrs = vars(first)
    for o in objects[1:]:
        if vars(o).keys() != attrs.keys():
            raise NotStackable(f"members of {type(first).__name__} have different attributes")
    for k in attrs:
        setattr(out, k, merge([vars(o)[k] for o in objects], expand.per_run() if k in server else expand))
    return out
