"""How calls reach the engine: the backend object networkx loads, ``can_run``, ``should_run``, and
the hand-back to networkx for what the engine does not run.

Rules, each stated once here:

- A call with a backend graph (a ``CausalGraph`` or an :class:`~._view.OmegaGraph`) always runs
  here: natively when the function is in :data:`_omega_graph_nx.FUNCTIONS` and its arguments are
  supported, otherwise in networkx on :func:`~._convert.networkx_graph` (a ``CausalGraph``'s frozen
  conversion, made once per snapshot). networkx itself only falls back for a backend's graphs when
  ``nx.config.fallback_to_nx`` is on, so the backend does it.
- A call with networkx graphs (``backend="omega"``, or ``omega`` in ``nx.config.backend_priority``)
  runs here when the function is native, the graphs are directed and the arguments are supported
  (``can_run``), and, when networkx chooses, only when the conversion pays (``should_run``, see
  :data:`MANY_PASSES`). Otherwise networkx runs it.
"""

from __future__ import annotations

import functools
import importlib
import inspect
from collections.abc import Callable
from typing import Any

from _omega_graph_nx import FUNCTIONS

from ._convert import Delegate, networkx_graph

__all__ = ["BackendInterface", "native"]

#: Converting a networkx graph costs about 3.5 µs an edge, as much as one pass of networkx's own
#: Python over it: a call on a networkx graph (when networkx chooses the backend) runs here only
#: when it does many passes (these functions, measured faster here from 1,000 edges with the
#: conversion included), or when networkx has already cached the graph's conversion.
MANY_PASSES = frozenset({"pagerank", "simple_cycles"})

Accepts = Callable[[inspect.BoundArguments], "bool | str"]


def _dispatchable(name: str) -> Any:
    from networkx.utils.backends import _registered_algorithms

    return _registered_algorithms[name]


def _graph_args(name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> list[Any]:
    """The graph arguments of a call of networkx's ``name`` (lists of graphs flattened)."""
    func = _dispatchable(name)
    found: list[Any] = []
    for gname, pos in func.graphs.items():
        g = args[pos] if pos < len(args) else kwargs.get(gname)
        if g is None:
            continue
        if gname in func.list_graphs:
            found.extend(g)
        else:
            found.append(g)
    return found


def _is_ours(g: Any) -> bool:
    return getattr(g, "__networkx_backend__", None) == "omega"


def _converted(g: Any) -> bool:
    """Whether networkx holds a conversion of ``g`` to this backend in its cache already."""
    cache = getattr(g, "__networkx_cache__", None) or {}
    return bool(cache.get("backends", {}).get("omega"))


def delegate(name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """Run networkx's own ``name`` with every backend graph replaced by its networkx graph."""
    func = _dispatchable(name)
    args = list(args)  # type: ignore[assignment]
    for gname, pos in func.graphs.items():
        where: Any = (args, pos) if pos < len(args) else (kwargs, gname) if gname in kwargs else None
        if where is None:
            continue
        holder, key = where
        g = holder[key]
        if g is None:
            continue
        holder[key] = [networkx_graph(x) for x in g] if gname in func.list_graphs else networkx_graph(g)
    return func.orig_func(*args, **kwargs)


def native(accepts: Accepts | None = None) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Mark an engine implementation of the networkx function of the same name.

    ``accepts(bound_arguments)`` says whether the engine runs these arguments (True, or the reason it
    does not), before a networkx graph is converted. Inside, raising :class:`~._convert.Delegate` hands
    the call to networkx (checks must come before a generator is returned).
    """

    def wrap(func: Callable[..., Any]) -> Callable[..., Any]:
        name = func.__name__
        signature = inspect.signature(func)

        @functools.wraps(func)
        def call(*args: Any, **kwargs: Any) -> Any:
            try:
                return func(*args, **kwargs)
            except Delegate:
                return delegate(name, args, kwargs)

        def check(args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool | str:
            if accepts is None:
                return True
            try:
                bound = signature.bind(*args, **kwargs)
            except TypeError as err:
                return f"arguments not understood ({err}); networkx reports it"
            bound.apply_defaults()
            return accepts(bound)

        call.accepts = check  # type: ignore[attr-defined]
        return call

    return wrap


def weight_is_name(key: str = "weight") -> Accepts:
    """``accepts`` for functions whose ``key`` argument may be an attribute name or None, not a function."""

    def accepts(bound: inspect.BoundArguments) -> bool | str:
        w = bound.arguments.get(key)
        return True if w is None or isinstance(w, str) else f"a {key} function runs in networkx"

    return accepts


class BackendInterface:
    """The object networkx loads for the ``omega`` backend (the ``networkx.backends`` entry point).

    Its attributes are networkx's functions: the native ones from the modules named in
    :data:`_omega_graph_nx.FUNCTIONS`, every other dispatchable function as a hand-back to networkx for
    backend graphs.
    """

    @staticmethod
    def convert_from_nx(*args: Any, **kwargs: Any) -> Any:
        from ._convert import convert_from_nx

        return convert_from_nx(*args, **kwargs)

    @staticmethod
    def convert_to_nx(obj: Any, *, name: str | None = None) -> Any:
        from ._convert import convert_to_nx

        return convert_to_nx(obj, name=name)

    @staticmethod
    def can_run(name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool | str:
        graphs = _graph_args(name, args, kwargs)
        if any(_is_ours(g) for g in graphs):
            return True  # natively, or handed to networkx inside (see module doc)
        if name not in FUNCTIONS:
            return f"omega does not implement {name}; networkx runs it"
        if any(not g.is_directed() for g in graphs):
            return "omega holds directed graphs only; networkx runs undirected ones"
        accepts: Callable[..., bool | str] = _native(name).accepts
        return accepts(args, kwargs)

    @staticmethod
    def should_run(name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool | str:
        graphs = [g for g in _graph_args(name, args, kwargs) if not _is_ours(g)]
        if all(_converted(g) for g in graphs) or name in MANY_PASSES:
            return True
        return "one pass over the graph: converting it for one call costs as much as networkx's own run"

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        if name in FUNCTIONS:
            func = _native(name)
        else:
            from networkx.utils.backends import _registered_algorithms

            if name not in _registered_algorithms:
                raise AttributeError(f"networkx has no dispatchable function {name!r}")

            def func(*args: Any, **kwargs: Any) -> Any:
                return delegate(name, args, kwargs)

            func.__name__ = name
        setattr(self, name, func)
        return func


@functools.cache
def _native(name: str) -> Any:
    module = importlib.import_module(f"{__package__}.{FUNCTIONS[name]}")
    return getattr(module, name)  # AttributeError: not (yet) native, so networkx's hasattr says no
