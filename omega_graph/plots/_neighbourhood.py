"""The causal neighbourhood of one memory: its causes and effects up to a radius, drawn in layers.

The drawing reads left to right, as causation does: causes at depth 2, causes, the memory itself,
effects, effects at depth 2. Edge width and darkness grow with weight, node colour is the tier
(colour bar), and every edge between shown memories is drawn, so direct links that skip a layer are
visible too. The layout is computed, not simulated: the same input always gives the same picture.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ..errors import NotFoundError, ValidationError
from ._common import TIERS, figure_for, shorten, tier_cmap, tier_norm

if TYPE_CHECKING:
    import networkx as nx

__all__ = ["causal_neighbourhood", "neighbourhood_graph"]

_EDGE_COLOUR = "#374151"
_FOCUS_EDGE = "#111827"


# --------------------------------------------------------------------------------------------------
# Selecting the neighbourhood


class _StoreEdges:
    """Edges of an ``OmegaStore`` through its bulk reads (strongest first, bounded)."""

    def __init__(self, store: Any) -> None:
        self.store = store

    def has(self, memory_id: str) -> bool:
        return bool(self.store.is_known_memory(memory_id))

    def step(self, memory_id: str, forward: bool, min_weight: float, limit: int) -> list[tuple[str, float]]:
        found: list[tuple[str, float]] = self.store.strongest_neighbours(
            memory_id, effects=forward, min_weight=min_weight, limit=limit
        )
        return found

    def edges_among(self, nodes: list[str], min_weight: float) -> list[tuple[str, str, float, int, str]]:
        found: list[tuple[str, str, float, int, str]] = self.store.edges_among(nodes, min_weight)
        return found

    def tiers(self, nodes: list[str]) -> dict[str, tuple[int | None, float | None]]:
        return {m: (t, w) for m, (t, w, _) in self.store.memory_attributes(nodes, content_chars=0).items()}


class _NxEdges:
    """Edges of a networkx (Multi)DiGraph; node attributes ``tier``/``importance`` if present."""

    def __init__(self, graph: nx.DiGraph | nx.MultiDiGraph) -> None:
        self.g = graph

    def has(self, memory_id: str) -> bool:
        return memory_id in self.g

    def _best(self, u: str, v: str) -> tuple[float, int, str]:
        data = self.g.get_edge_data(u, v)
        items = list(data.values()) if self.g.is_multigraph() else [data]
        best = max(items, key=lambda d: float(d.get("weight", 1.0)))
        return float(best.get("weight", 1.0)), len(items), str(best.get("edge_type", ""))

    def step(self, memory_id: str, forward: bool, min_weight: float, limit: int) -> list[tuple[str, float]]:
        near = self.g.successors(memory_id) if forward else self.g.predecessors(memory_id)
        out = []
        for other in set(near):
            w = self._best(memory_id, other)[0] if forward else self._best(other, memory_id)[0]
            if w >= min_weight:
                out.append((other, w))
        return sorted(out, key=lambda x: (-x[1], str(x[0])))[:limit]

    def edges_among(self, nodes: list[str], min_weight: float) -> list[tuple[str, str, float, int, str]]:
        keep = set(nodes)
        out = []
        for u in sorted(keep, key=str):
            for v in sorted(set(self.g.successors(u)) & keep, key=str):
                w, n, kind = self._best(u, v)
                if w >= min_weight:
                    out.append((u, v, w, n, kind))
        return out

    def tiers(self, nodes: list[str]) -> dict[str, tuple[int | None, float | None]]:
        return {v: (self.g.nodes[v].get("tier"), self.g.nodes[v].get("importance")) for v in nodes}


def _edges_source(source: Any) -> _StoreEdges | _NxEdges:
    if hasattr(source, "edges_among") and hasattr(source, "get_statistics"):
        return _StoreEdges(source)
    if hasattr(source, "to_networkx"):
        return _NxEdges(source.to_networkx())
    if hasattr(source, "successors") and hasattr(source, "predecessors"):
        return _NxEdges(source)
    raise ValidationError(
        "causal_neighbourhood", "graph", type(source).__name__,
        "an OmegaStore, a CausalGraph (store.causal_graph()) or a networkx DiGraph/MultiDiGraph",
    )  # fmt: skip


def neighbourhood_graph(
    source: Any, memory_id: str, radius: int = 1, *, max_nodes: int = 40, min_weight: float = 0.0
) -> nx.DiGraph:
    """The causes and effects of ``memory_id`` within ``radius`` edges, as a small ``networkx.DiGraph``.

    Memories are added breadth first, strongest edge first, until ``max_nodes``; at each depth the
    room left is shared between causes and effects, so a hub with many effects still shows its
    causes. The graph attribute ``truncated`` says whether some were left out. Parallel edges are merged into one edge
    carrying the strongest ``weight``, their count ``edges`` and an ``edge_type``. Node attributes:
    ``depth`` (0 for the memory, -d for a cause d edges upstream, +d for an effect), ``tier``,
    ``importance`` (None where unknown).

    Parameters
    ----------
    source : OmegaStore, CausalGraph or networkx graph
        A store is read with bounded point queries (fit for any size); a ``CausalGraph`` is read
        through ``to_networkx()`` so its filters (``min_weight``, ``edge_types``, ``as_of``) apply.
    memory_id : str
    radius : int, default 1
        1 or more; 2 shows causes of causes and effects of effects.
    max_nodes : int, default 40
    min_weight : float, default 0.0
        Ignore weaker edges.

    Raises
    ------
    NotFoundError
        If ``memory_id`` is neither a memory nor an edge endpoint.

    Examples
    --------
    >>> import networkx as nx
    >>> g = nx.DiGraph([("a", "b", {"weight": 0.9}), ("b", "c", {"weight": 0.5}), ("c", "d", {"weight": 1})])
    >>> sorted(neighbourhood_graph(g, "b").nodes(data="depth"))
    [('a', -1), ('b', 0), ('c', 1)]
    """
    if not isinstance(radius, int) or radius < 1:
        raise ValidationError("causal_neighbourhood", "radius", radius, "an integer >= 1 (1 or 2 reads best)")
    if not isinstance(max_nodes, int) or max_nodes < 1:
        raise ValidationError("causal_neighbourhood", "max_nodes", max_nodes, "a positive integer")
    import networkx as nx

    src = _edges_source(source)
    if not src.has(memory_id):
        raise NotFoundError("memory", memory_id, "give the id of a stored memory (see store.iter_memories())")
    depth: dict[str, int] = {memory_id: 0}
    truncated = False
    # layer by layer, so the nearest memories always make it in; within a layer the room left is
    # shared between causes and effects (strongest edges first on each side); a memory reached on
    # both sides is placed once (nearest side, effects on a tie) but expanded on both
    frontiers = {1: [memory_id], -1: [memory_id]}
    seen = {1: {memory_id}, -1: {memory_id}}
    for d in range(1, radius + 1):
        ranked: dict[int, list[str]] = {}
        for sign in (1, -1):
            found: dict[str, float] = {}
            for v in frontiers[sign]:
                for other, w in src.step(v, sign > 0, min_weight, max_nodes + 1):
                    if other not in seen[sign]:
                        found[other] = max(found.get(other, 0.0), w)
            ranked[sign] = sorted(found, key=lambda m: (-found[m], str(m)))
        new_up = [m for m in ranked[-1] if m not in ranked[1] and m not in depth]
        new_down = [m for m in ranked[1] if m not in depth]
        room = max(max_nodes - len(depth), 0)
        down = min(len(new_down), max(room - len(new_up), (room + 1) // 2))
        up = min(len(new_up), room - down)
        truncated |= down + up < len(new_down) + len(new_up)
        for sign, kept in ((1, new_down[:down]), (-1, new_up[:up])):
            for m in kept:
                depth[m] = sign * d
        for sign in (1, -1):
            frontiers[sign] = [m for m in ranked[sign] if m in depth]
            seen[sign].update(frontiers[sign])
    nodes = sorted(depth, key=lambda m: (depth[m], str(m)))
    attrs = src.tiers(nodes)
    g = nx.DiGraph(focus=memory_id, radius=radius, truncated=truncated)
    for v in nodes:
        tier, importance = attrs.get(v, (None, None))
        g.add_node(v, depth=depth[v], tier=tier, importance=importance)
    for u, v, w, n, kind in src.edges_among(nodes, min_weight):
        g.add_edge(u, v, weight=float(w), edges=int(n), edge_type=kind)
    return g


# --------------------------------------------------------------------------------------------------
# Drawing


def _layout(g: nx.DiGraph) -> dict[str, tuple[float, float]]:
    """Columns by depth; within a column, order by the mean position of the nodes linked inward."""
    columns: dict[int, list[str]] = {}
    for v, d in g.nodes(data="depth"):
        columns.setdefault(d, []).append(v)
    pos: dict[str, tuple[float, float]] = {}

    def place(d: int, order: list[str]) -> None:
        n = len(order)
        for i, v in enumerate(order):
            pos[v] = (float(d), (n - 1) / 2 - i)

    place(0, columns.get(0, []))
    for d in sorted((d for d in columns if d != 0), key=lambda d: (abs(d), -d)):
        inner = d - 1 if d > 0 else d + 1

        def key(v: str, inner: int = inner) -> tuple[float, float, str]:
            linked = [
                pos[u][1]
                for u in (*g.predecessors(v), *g.successors(v))
                if u in pos and g.nodes[u]["depth"] == inner
            ]
            weight = max((g.edges[e]["weight"] for e in (*g.in_edges(v), *g.out_edges(v))), default=0.0)
            return (-(sum(linked) / len(linked)) if linked else 0.0, -weight, str(v))

        place(d, sorted(columns[d], key=key))
    return pos


def _arc_midpoint(
    ax: Axes, a: tuple[float, float], b: tuple[float, float], rad: float
) -> tuple[float, float]:
    """Data coordinates of the middle of matplotlib's ``arc3`` curve from ``a`` to ``b`` (built on screen)."""
    (x0, y0), (x1, y1) = ax.transData.transform([a, b])
    dx, dy = x1 - x0, y1 - y0
    mid = ((x0 + x1) / 2 + rad * dy / 2, (y0 + y1) / 2 - rad * dx / 2)  # half way to the control point
    x, y = ax.transData.inverted().transform(mid)
    return float(x), float(y)


def _common_prefix(ids: list[str]) -> str:
    """A ``network:`` style prefix shared by every id (shown once in the title instead)."""
    if not ids:
        return ""
    prefix = ids[0].split(":", 1)[0] + ":" if ":" in ids[0] else ""
    return prefix if prefix and all(i.startswith(prefix) and len(i) > len(prefix) for i in ids) else ""


def causal_neighbourhood(
    graph: Any,
    memory_id: str,
    radius: int = 1,
    *,
    max_nodes: int = 40,
    min_weight: float = 0.0,
    edge_labels: bool | None = None,
    label_width: int = 22,
    ax: Axes | None = None,
) -> Figure:
    """Draw the causes and effects of one memory: edge width by weight, node colour by tier.

    Parameters
    ----------
    graph : OmegaStore, CausalGraph or networkx graph
        Where the edges come from (see :func:`neighbourhood_graph`).
    memory_id : str
    radius : int, default 1
        How many edges upstream and downstream to follow (1 or 2 read best).
    max_nodes : int, default 40
        At most this many memories, nearest and strongest first; the title says when some were cut.
    min_weight : float, default 0.0
        Leave out weaker edges.
    edge_labels : bool, optional
        Print each edge's weight (default: when at most 24 edges are drawn).
    label_width : int, default 22
        Longer memory ids are cut with an ellipsis.
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    NotFoundError
        If ``memory_id`` is not in the graph.

    Examples
    --------
    >>> import networkx as nx
    >>> g = nx.DiGraph([("rain", "wet", {"weight": 0.9}), ("wet", "slip", {"weight": 0.4})])
    >>> fig = causal_neighbourhood(g, "wet")
    >>> sorted(t.get_text() for t in fig.axes[0].texts if t.get_text() in g)
    ['rain', 'slip', 'wet']
    """
    from matplotlib.cm import ScalarMappable
    from matplotlib.lines import Line2D
    from matplotlib.patches import FancyArrowPatch

    g = neighbourhood_graph(graph, memory_id, radius, max_nodes=max_nodes, min_weight=min_weight)
    pos = _layout(g)
    depths = sorted({d for _, d in g.nodes(data="depth")})
    tallest = max(sum(1 for _, d in g.nodes(data="depth") if d == c) for c in depths)
    fig, ax = figure_for(ax, min(3.2 + 2.1 * len(depths), 12.5), min(max(4.2, 0.62 * tallest + 1.8), 16.0))
    ax.set_axis_off()
    prefix = _common_prefix(list(g.nodes))
    ax.set_title(f"Causal neighbourhood of {memory_id}", loc="left", fontsize=12, pad=16)
    n_causes = sum(1 for _, d in g.nodes(data="depth") if d < 0)
    n_effects = sum(1 for _, d in g.nodes(data="depth") if d > 0)
    sub = f"radius {radius}: {n_causes} cause(s), {n_effects} effect(s), {g.number_of_edges()} edge(s)"
    if g.graph["truncated"]:
        sub += f"; strongest {max_nodes} memories shown"
    if prefix:
        sub += f"; ids shown without '{prefix}'"
    ax.annotate(sub, (0.0, 1.0), xycoords="axes fraction", xytext=(0, 5), textcoords="offset points",
                fontsize=8, color="#4b5563", va="bottom")  # fmt: skip
    cmap, norm = tier_cmap(), tier_norm()
    show_weights = edge_labels if edge_labels is not None else g.number_of_edges() <= 24
    ys = [p[1] for p in pos.values()]
    ax.set_xlim(min(depths) - 0.6, max(depths) + 0.6)
    ax.set_ylim(min(ys) - 0.75, max(ys) + 0.7)
    node_pt = 13.0  # marker radius in points, used to stop arrows at the node's edge
    for u, v, data in sorted(g.edges(data=True), key=lambda e: e[2]["weight"]):
        w = max(min(float(data["weight"]), 1.0), 0.0)
        same_col = g.nodes[u]["depth"] == g.nodes[v]["depth"]
        if same_col:  # bulge outward, away from the memory's column, clear of the labels
            d, rising = g.nodes[u]["depth"], pos[v][1] > pos[u][1]
            rad = 0.6 * (1 if (d > 0) == rising else -1)
        else:
            rad = 0.15 if g.has_edge(v, u) else 0.0
        arrow = FancyArrowPatch(
            pos[u], pos[v], arrowstyle="-|>", mutation_scale=9 + 6 * w, linewidth=0.6 + 4.2 * w,
            color=_EDGE_COLOUR, alpha=0.3 + 0.6 * w, connectionstyle=f"arc3,rad={rad}",
            shrinkA=node_pt, shrinkB=node_pt + 1, zorder=1,
        )  # fmt: skip
        ax.add_patch(arrow)
        if show_weights:
            mx, my = _arc_midpoint(ax, pos[u], pos[v], rad)
            label = f"{data['weight']:.2g}" + (f" ×{data['edges']}" if data["edges"] > 1 else "")
            ax.text(mx, my, label, fontsize=7, ha="center", va="center", color="#1f2937", zorder=3,
                    bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.85})  # fmt: skip
    for v, data in g.nodes(data=True):
        tier = data["tier"]
        colour = cmap(norm(tier)) if tier in TIERS else "#d1d5db"
        focus = v == memory_id
        ax.scatter(*pos[v], s=(2 * node_pt) ** 2 * (1.35 if focus else 1.0), color=colour, zorder=4,
                   edgecolors=_FOCUS_EDGE if focus else "white", linewidths=2.4 if focus else 1.2)  # fmt: skip
        name = v[len(prefix) :] if prefix else v
        ax.text(pos[v][0], pos[v][1] - 0.3, shorten(name, label_width), ha="center", va="top", zorder=5,
                fontsize=9 if focus else 8, fontweight="bold" if focus else "normal", color="#111827",
                bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none", "alpha": 0.8})  # fmt: skip
    for d in depths:
        head = (
            "memory"
            if d == 0
            else ("causes" if d < 0 else "effects") + (f" (depth {abs(d)})" if abs(d) > 1 else "")
        )
        ax.text(
            d, max(ys) + 0.45, head, ha="center", va="bottom", fontsize=8, color="#6b7280", style="italic"
        )
    bar = fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=ax, ticks=TIERS, fraction=0.03, pad=0.01,
                       shrink=0.8)  # fmt: skip
    bar.set_label("tier", fontsize=9)
    bar.ax.tick_params(labelsize=7)
    widths = [Line2D([], [], color=_EDGE_COLOUR, alpha=0.3 + 0.6 * w, linewidth=0.6 + 4.2 * w, label=f"weight {w:g}")
              for w in (0.1, 0.5, 1.0)]  # fmt: skip
    ax.legend(handles=widths, loc="lower left", fontsize=7, frameon=False, ncols=3, bbox_to_anchor=(0, -0.06))
    return fig
