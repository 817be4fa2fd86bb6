"""From networkx graphs and ``CausalGraph`` snapshots to :class:`~._view.View`, and back.

- :func:`convert_from_nx`: networkx calls it for ``backend="omega"`` (and when running its own tests
  with the backend); it reads a ``DiGraph`` or ``MultiDiGraph`` once into arrays, with only the edge
  attributes the call needs.
- :func:`convert_to_nx`: a ``CausalGraph`` becomes what its ``to_networkx()`` returns; an
  :class:`~._view.OmegaGraph` the graph it came from; any other value (a result) is returned as is.
- :func:`view_of`: the view of either kind of backend graph (a ``CausalGraph``'s is built over its
  snapshot's arrays and kept until :meth:`~omega_graph.graph.CausalGraph.refresh` changes them).
- :func:`networkx_graph`: the networkx graph a call that the backend does not run natively goes to
  (a ``CausalGraph``'s conversion is made once per snapshot, frozen, and kept with it).
"""

from __future__ import annotations

from collections.abc import Mapping
from itertools import chain
from typing import Any

import numpy as np

from ._view import OmegaGraph, View

__all__ = ["Delegate", "convert_from_nx", "convert_to_nx", "networkx_graph", "view_of"]


class Delegate(Exception):
    """Raised inside a backend function: networkx itself answers this call (the reason is the message)."""


# ----- networkx -> View ---------------------------------------------------------------------------
def convert_from_nx(
    G: Any,
    edge_attrs: Mapping[str, object] | None = None,
    node_attrs: Mapping[str, object] | None = None,
    preserve_edge_attrs: bool = False,
    preserve_node_attrs: bool = False,
    preserve_graph_attrs: bool = False,
    name: str | None = None,
    graph_name: str | None = None,
) -> Any:
    """A networkx directed graph as an :class:`~._view.OmegaGraph` (any other object as it is).

    Reads the nodes, the edges in ``G.edges`` order and the values of the edge attributes in
    ``edge_attrs`` (``{name: default}``, networkx's ``d.get(name, default)``); the predecessor order
    when a call first needs it.
    Undirected graphs never get here: ``can_run`` declines them, and networkx runs those calls.
    """
    import networkx as nx

    if not isinstance(G, nx.Graph):
        return G
    if not G.is_directed():
        raise NotImplementedError("the omega backend holds directed graphs; networkx runs undirected ones")
    multigraph = G.is_multigraph()
    nodes = list(G._node)
    index = {v: i for i, v in enumerate(nodes)}
    adj = G._adj
    counts = np.fromiter(
        (sum(map(len, nbrs.values())) for nbrs in adj.values()) if multigraph else map(len, adj.values()),
        dtype=np.int64,
        count=len(nodes),
    )
    m = int(counts.sum())
    src = np.repeat(np.arange(len(nodes), dtype=np.int64), counts)
    if multigraph:
        dst = np.fromiter(
            (index[v] for nbrs in adj.values() for v, keys in nbrs.items() for _ in range(len(keys))),
            dtype=np.int64,
            count=m,
        )
        datas: Any = [d for nbrs in adj.values() for keys in nbrs.values() for d in keys.values()]
    else:
        dst = np.fromiter(map(index.__getitem__, chain.from_iterable(adj.values())), np.int64, count=m)
        datas = list(chain.from_iterable(nbrs.values() for nbrs in adj.values()))  # views too, not only dicts
    values = {
        (attr, default): _edge_values([d.get(attr, default) for d in datas])
        for attr, default in (edge_attrs or {}).items()
    }

    def edge_values(attr: str, default: object) -> np.ndarray:
        found = values.get((attr, default))
        if found is None:
            raise Delegate(f"edge attribute {attr!r} (default {default!r}) was not converted, or not numbers")
        return found

    def pred_pairs(view: View) -> tuple[np.ndarray, np.ndarray]:
        # G._pred order as pair positions, read when first needed (most calls never need it): find
        # each (u, v) among the pairs by its key u * n + v. networkx drops this conversion from its
        # cache when G changes through its methods; a change made behind its back is caught here.
        n = view.n
        pdst = view.pairs()[1]
        counts = np.fromiter(map(len, G._pred.values()), dtype=np.int64, count=len(G._pred))
        if len(counts) != n or int(counts.sum()) != len(pdst):
            raise Delegate("the graph changed since it was converted")
        pred_src = np.fromiter(
            map(index.__getitem__, chain.from_iterable(G._pred.values())), np.int64, len(pdst)
        )
        keys = view.pair_src() * n + pdst
        order = np.argsort(keys, kind="stable")
        pred_dst = np.repeat(np.arange(n, dtype=np.int64), counts)
        wanted = pred_src * n + pred_dst
        positions = order[np.searchsorted(keys[order], wanted)]
        ptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(counts, out=ptr[1:])
        return ptr, positions

    find = index.get
    view = View(
        nodes=nodes,
        src=src,
        dst=dst,
        multigraph=multigraph,
        find=lambda v: _lookup(find, v),
        values=edge_values,
        pred_pairs=pred_pairs,
    )
    return OmegaGraph(view, G)


def _lookup(find: Any, node: object) -> int:
    try:
        i = find(node)
    except TypeError:  # unhashable: not a node, as `node in G` says
        return -1
    return -1 if i is None else int(i)


def _edge_values(raw: list[object]) -> np.ndarray | None:
    """int64 when every value is an int (networkx's sums then stay ints), else float64; None when
    some value is not a real number (networkx itself then answers, with its own errors)."""
    if not raw:
        return np.empty(0, dtype=np.int64)
    try:
        array = np.array(raw)
    except (TypeError, ValueError):
        return None
    if array.dtype == np.bool_:
        return array.astype(np.int64)
    if array.dtype.kind == "i" or array.dtype.kind == "u":
        return array.astype(np.int64)
    if array.dtype.kind == "f":
        return array.astype(np.float64)
    return None


# ----- CausalGraph -> View ------------------------------------------------------------------------
def _causal_view(data: Any) -> View:
    """The view of a snapshot (``GraphData``), in ``to_networkx()`` order: nodes and edges sorted."""

    def edge_values(attr: str, default: object) -> np.ndarray:
        if attr == "weight":
            return data.weight
        raise Delegate(f"only 'weight' is a number on every causal edge, not {attr!r}")

    def pred_pairs(view: View) -> tuple[np.ndarray, np.ndarray]:
        pdst = view.pairs()[1]
        order = np.argsort(pdst, kind="stable")  # to_networkx adds edges by source: _pred is by source
        ptr = np.zeros(view.n + 1, dtype=np.int64)
        np.cumsum(np.bincount(pdst, minlength=view.n), out=ptr[1:])
        return ptr, order

    find = data.find
    return View(
        nodes=data.node_ids,
        src=data.src.astype(np.int64),
        dst=data.dst.astype(np.int64),
        multigraph=True,
        find=lambda v: find(v) if isinstance(v, str) else -1,
        values=edge_values,
        pred_pairs=pred_pairs,
    )


def view_of(G: Any) -> View:
    """The view of a backend graph (an :class:`OmegaGraph` or a ``CausalGraph``)."""
    if isinstance(G, OmegaGraph):
        return G.view
    data = G._data
    view: View = data._cached("networkx_view", lambda: _causal_view(data))
    return view


def networkx_graph(G: Any) -> Any:
    """The networkx graph a delegated call runs on: an :class:`OmegaGraph`'s original, a
    ``CausalGraph``'s ``to_networkx()`` made once per snapshot and frozen (so no call can change it)."""
    if isinstance(G, OmegaGraph):
        return G.to_networkx()
    if getattr(G, "__networkx_backend__", None) != "omega":
        return G
    return G.to_networkx(frozen=True)


def convert_to_nx(obj: Any, *, name: str | None = None) -> Any:
    """A backend graph as networkx's (a ``CausalGraph``: what ``to_networkx()`` returns); any other
    value unchanged."""
    if isinstance(obj, OmegaGraph):
        return obj.to_networkx()
    if getattr(obj, "__networkx_backend__", None) == "omega":
        return obj.to_networkx()
    return obj
