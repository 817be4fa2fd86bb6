"""Causal identification on the structural graph: Markov blankets, back-door sets, instruments, separators.

Every question here is vectorised over the snapshot's collapsed CSR arrays: reachability and the
ball-passing searches go level by level with :func:`~._bfs.expand`, their work proportional to the
region they visit (for the adjustment and separator questions, the ancestral set of the nodes asked
about), plus O(n) boolean masks.

Acyclicity: the questions are defined on DAGs, but only the part of the graph the answer depends on
has to be acyclic. A cycle inside the ancestral set of the nodes asked about (for ``markov_blanket``,
of the node and its children) raises :class:`~omega_graph.errors.NotADAGError` naming that cycle; a
cycle elsewhere does not matter (d-separation given ``z`` only depends on the ancestral set of the
three sets).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from ..errors import NotADAGError, NotFoundError, ValidationError
from ._bfs import distinct, expand, find_cycle_in, reach_mask
from .snapshot import GraphData
from .structure import a_cycle

__all__ = ["instruments", "is_valid_adjustment_set", "markov_blanket", "minimal_d_separator"]


# ----- argument checks ---------------------------------------------------------------------------
def _index(data: GraphData, value: object, arg: str, method: str) -> int:
    if not isinstance(value, str):
        raise ValidationError(method, arg, value, "a memory id (str)")
    i = data.find(value)
    if i < 0:
        raise NotFoundError(
            "memory",
            value,
            f"{method}({arg}=...) names a memory that is not in this graph snapshot; "
            "check the id, or call refresh() if it was stored since",
        )
    return i


def _index_set(data: GraphData, values: object, arg: str, method: str, *, allow_empty: bool) -> np.ndarray:
    """Sorted unique node indices of a memory id or a collection of them."""
    if isinstance(values, str):
        values = [values]
    if not isinstance(values, Iterable):
        raise ValidationError(method, arg, values, "a memory id or a collection of memory ids")
    out = np.array(sorted({_index(data, v, arg, method) for v in values}), dtype=np.int64)
    if not allow_empty and len(out) == 0:
        raise ValidationError(method, arg, values, "at least one memory id")
    return out


def _mask(n: int, nodes: np.ndarray) -> np.ndarray:
    m = np.zeros(n, dtype=bool)
    m[nodes] = True
    return m


def _ids(data: GraphData, mask: np.ndarray) -> frozenset[str]:
    return frozenset(data.node_ids[i] for i in np.flatnonzero(mask).tolist())


# ----- building blocks ---------------------------------------------------------------------------
def _require_acyclic(data: GraphData, region: np.ndarray, what: str) -> None:
    """NotADAGError naming a cycle among the ``region`` nodes, if there is one."""
    if a_cycle(data) is None:  # cached: the whole snapshot is a DAG
        return
    cycle = find_cycle_in(data.forward(), mask=region)
    if cycle is not None:
        raise NotADAGError([data.node_ids[i] for i in cycle], what=what)


def _ball(
    data: GraphData,
    sources: np.ndarray,
    z: np.ndarray,
    allowed: np.ndarray,
    pass_up: np.ndarray | None,
    cut: int = -1,
) -> np.ndarray:
    """Mask of the nodes a ball from ``sources`` visits (sources included), given the ``z`` mask.

    States: a node reached from a child (``up``) or from a parent (``down``); a ball starts at each
    source as if from a child. From ``up`` at v not in z it goes to v's parents and children; from
    ``down`` it goes on to v's children when v is not in z, and back to v's parents when
    ``pass_up[v]`` (Bayes-ball: the ancestors of z, z included; ``None``: every node, the
    ``REACHABLE`` rule of van der Zander and Liśkiewicz that networkx's ``_reachable`` follows).
    Only ``allowed`` nodes are entered. ``cut``: a node whose outgoing edges are removed.
    """
    fwd, bwd = data.forward(), data.backward()
    n = data.n_nodes
    up_seen, down_seen = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
    up = np.unique(sources.astype(np.int64))
    down = up[:0]
    up_seen[up] = True
    while len(up) or len(down):
        up_open = up[~z[up]]
        down_open = down[~z[down]]
        bounce = down if pass_up is None else down[pass_up[down]]
        to_parents = np.concatenate((up_open, bounce))
        to_children = np.concatenate((up_open, down_open))
        if cut >= 0:
            to_children = to_children[to_children != cut]
        pos, _ = expand(bwd.indptr, to_parents)
        parents = bwd.nbr[pos]
        up = distinct(parents[allowed[parents] & ~up_seen[parents] & (parents != cut)], n)
        pos, _ = expand(fwd.indptr, to_children)
        children = fwd.nbr[pos]
        down = distinct(children[allowed[children] & ~down_seen[children]], n)
        up_seen[up] = True
        down_seen[down] = True
    return up_seen | down_seen


# ----- the questions ------------------------------------------------------------------------------
def markov_blanket(data: GraphData, memory_id: object) -> frozenset[str]:
    """Parents, children and the children's other parents of one memory (itself excluded)."""
    v = _index(data, memory_id, "memory_id", "markov_blanket")
    fwd, bwd = data.forward(), data.backward()
    children = fwd.neighbors(v).astype(np.int64)
    if a_cycle(data) is not None:
        region = reach_mask(bwd, np.append(children, v))
        _require_acyclic(data, region, "markov_blanket")
    pos, _ = expand(bwd.indptr, children)
    members = np.concatenate((bwd.neighbors(v), children, bwd.nbr[pos])).astype(np.int64)
    blanket = _mask(data.n_nodes, members)
    blanket[v] = False
    return _ids(data, blanket)


def _pair(data: GraphData, x: object, y: object, method: str) -> tuple[int, int]:
    i, j = _index(data, x, "x", method), _index(data, y, "y", method)
    if i == j:
        raise ValidationError(method, "y", y, "a memory other than x")
    return i, j


def is_valid_adjustment_set(data: GraphData, x: object, y: object, z: object) -> bool:
    """Pearl's back-door criterion for the effect of ``x`` on ``y`` with adjustment set ``z``."""
    method = "is_valid_adjustment_set"
    i, j = _pair(data, x, y, method)
    zs = _index_set(data, z, "z", method, allow_empty=True)
    for k, name in ((i, x), (j, y)):
        if k in zs:
            raise ValidationError(method, "z", z, f"a set without x and y (it contains {name!r})")
    bwd = data.backward()
    n = data.n_nodes
    anc_z = reach_mask(bwd, zs) if len(zs) else np.zeros(n, dtype=bool)
    region = anc_z | reach_mask(bwd, np.array([i, j], dtype=np.int64))
    _require_acyclic(data, region, method)
    if anc_z[i]:
        return False  # x is an ancestor of z: some member of z is a descendant of x
    # x is no ancestor of z, so the ancestors of z are the same once x's outgoing edges are removed
    reached = _ball(data, np.array([i]), _mask(n, zs), region, anc_z, cut=i)
    return not bool(reached[j])


def instruments(data: GraphData, x: object, y: object) -> list[str]:
    """Unconditional instruments for x -> y, sorted (see :meth:`CausalGraph.instruments`)."""
    method = "instruments"
    i, j = _pair(data, x, y, method)
    fwd, bwd = data.forward(), data.backward()
    anc_x = reach_mask(bwd, np.array([i]))
    anc_y = reach_mask(bwd, np.array([j]))
    _require_acyclic(data, anc_x | anc_y, method)
    # given the empty set, two nodes are d-connected exactly when they have a common ancestor
    linked_x = reach_mask(fwd, np.flatnonzero(anc_x))
    # ... and in the graph without x's outgoing edges: x is not an ancestor of y there (x != y), and
    # passes nothing on to its children (x itself is excluded from the answer anyway)
    anc_y_cut = reach_mask(bwd, np.array([j]), blocked=i)
    linked_y_cut = reach_mask(fwd, np.flatnonzero(anc_y_cut), blocked=i)
    desc_x = reach_mask(fwd, np.array([i]))
    keep = linked_x & ~desc_x & ~linked_y_cut
    keep[[i, j]] = False
    return [data.node_ids[k] for k in np.flatnonzero(keep).tolist()]


def minimal_d_separator(
    data: GraphData, xs: object, ys: object, included: object = (), restricted: object = None
) -> frozenset[str] | None:
    """A minimal d-separator of xs and ys, as ``networkx.find_minimal_d_separator`` constructs it."""
    method = "minimal_d_separator"
    n = data.n_nodes
    x = _index_set(data, xs, "xs", method, allow_empty=False)
    y = _index_set(data, ys, "ys", method, allow_empty=False)
    inc = _index_set(data, () if included is None else included, "included", method, allow_empty=True)
    x_mask, y_mask, inc_mask = _mask(n, x), _mask(n, y), _mask(n, inc)
    if restricted is None:
        res_mask = np.ones(n, dtype=bool)
    else:
        res_mask = _mask(n, _index_set(data, restricted, "restricted", method, allow_empty=True))
    for a, b, name, value in (
        (x_mask, y_mask, "ys", ys),
        (x_mask, inc_mask, "included", included),
        (y_mask, inc_mask, "included", included),
    ):
        common = a & b
        if common.any():
            overlap = sorted(_ids(data, common))
            raise ValidationError(method, name, value, f"a set disjoint from the others (overlap {overlap})")
    if not res_mask[inc].all():
        outside = sorted(_ids(data, inc_mask & ~res_mask))
        raise ValidationError(method, "included", included, f"a subset of restricted (not in it: {outside})")
    region = reach_mask(data.backward(), np.concatenate((x, y, inc)))
    _require_acyclic(data, region, method)
    z_init = res_mask & region & ~x_mask & ~y_mask
    x_closure = _ball(data, x, z_init, region, None)
    if x_closure[y].any():
        return None
    z_updated = z_init & (x_closure | inc_mask)
    y_closure = _ball(data, y, z_updated, region, None)
    return _ids(data, z_updated & (y_closure | inc_mask))
