"""Section builders for the causal graph: its structure, and its strongest chains and influencers.

How the strongest chains are chosen (bounded on any graph)
----------------------------------------------------------
1. Rank memories twice with weighted PageRank (``CausalGraph.influence``, converged to its default L1
   error bound of 1e-10; the text states the bound met): on the graph, a memory ranks high when
   strong causal chains flow *into* it (a much-influenced outcome); on the reversed graph, when it
   *drives* many others (a root cause).
2. Take the ``chain_sources`` strongest drivers that have an outgoing edge. For each, one pass of
   ``effects`` finds every memory it reaches with positive strength; the target is the one among
   them that ranks highest on the forward PageRank (the most influenced memory that driver reaches).
3. ``strongest_path`` gives the chain from driver to target; chains are listed strongest first.
4. For each chain listed, what to control for to estimate the driver's effect on the target from
   logged outcomes (Pearl's back-door criterion): the set ``minimal_adjustment_set(driver, target)``
   names (the smallest valid set, ties by sorted ids), and how many minimal valid sets there are
   (``adjustment_sets(driver, target, limit=20)``, whose list starts with that set; "20+" when it
   stops at the limit, its :class:`~omega_graph.errors.LimitWarning` caught, not passed on). A
   cycle among the causes of the pair leaves the effect not identifiable; the cell names the cycle.

Cost: one snapshot, two PageRanks, and ``chain_sources`` reachability passes plus as many path
searches, whatever the size of the store; then, per chain listed (``chains``, 5 by default), one
moral back-door graph of the pair (:mod:`omega_graph.graph.adjustment`), at most 20 steps of the
minimal-set enumeration on it and, when it stops there, one minimum vertex cut. That work is
bounded by the pair's ancestral set, not by the store (though a target with a long history may
have most of the graph among its ancestors). Alternative routes (``top_paths``) are added for the
strongest chain only on graphs up to ``alternatives_max_edges`` edges.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import plots
from ..errors import NoPathError, NotADAGError
from ..graph.adjustment import adjustment_sets_and_more
from ._context import Context
from ._model import Facts, Paragraph, Section, fmt_count, fmt_float, frame_table
from ._queries import DUCK_EDGE_FACTS, DUCK_JOINT_DEGREES

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "ADJUSTMENT_COUNT_LIMIT",
    "adjustment_cells",
    "chains_and_influence",
    "graph_structure",
    "strongest_chains",
]

#: The minimal adjustment sets of a chain are counted up to this many ("20+" beyond).
ADJUSTMENT_COUNT_LIMIT = 20


def _chain_text(nodes: list[str], weights: list[float]) -> str:
    parts = [str(nodes[0])]
    for node, w in zip(nodes[1:], weights, strict=True):
        parts.append(f"—{w:.2g}→ {node}")
    return " ".join(parts)


def _cycle_text(cycle: list[str], show: int = 12) -> str:
    """``a → b → c → a``; a long cycle keeps its first and last memories around an ellipsis.

    >>> _cycle_text(["a", "b"]), _cycle_text([str(i) for i in range(100)], show=4)
    ('a → b → a', '0 → 1 → 2 → … (96 more) … → 99 → 0')
    """
    ids = [str(c) for c in cycle]
    if len(ids) > show:
        head, tail = ids[: show - 1], ids[-1:]
        ids = [*head, f"… ({len(cycle) - len(head) - len(tail)} more) …", *tail]
    return " → ".join([*ids, str(cycle[0])])


def _degree_facts(joint: pd.DataFrame) -> dict[str, float]:
    """Linked, isolated, roots, sinks, max degrees and mean out-degree from the joint degree counts."""
    i, o, n = joint["in_degree"], joint["out_degree"], joint["memories"]
    linked = int(n[(i + o) > 0].sum())
    return {
        "linked": linked,
        "isolated": int(n[(i + o) == 0].sum()),
        "roots": int(n[(i == 0) & (o > 0)].sum()),
        "sinks": int(n[(o == 0) & (i > 0)].sum()),
        "max_out_degree": int(o[n > 0].max()) if len(joint) else 0,
        "max_in_degree": int(i[n > 0].max()) if len(joint) else 0,
        "mean_degree": float((o * n).sum() / linked) if linked else 0.0,
    }


def _marginals(joint: pd.DataFrame) -> pd.DataFrame:
    """The in- and out-degree distributions (``direction``, ``degree``, ``memories``) of the joint counts."""
    import pandas as pd

    parts = []
    for direction, column in (("in", "in_degree"), ("out", "out_degree")):
        m = joint.groupby(column, sort=True)["memories"].sum().reset_index()
        parts.append(pd.DataFrame({"direction": direction, "degree": m[column], "memories": m["memories"]}))
    return pd.concat(parts, ignore_index=True).astype({"degree": "int64", "memories": "int64"})


def graph_structure(ctx: Context) -> Section:
    sec = Section("graph-structure", "Causal graph structure")
    if ctx.stats.causal_edge_count == 0:
        sec.empty = "No data: the store holds no causal edges."
        return sec
    joint = ctx.sql(DUCK_JOINT_DEGREES)
    facts = _degree_facts(joint)
    edges = ctx.sql(DUCK_EDGE_FACTS).iloc[0]
    g = ctx.graph
    dag = bool(g.is_dag())
    sec.add(Facts((
        ("Causal edges", fmt_count(edges["edges"])),
        ("Linked memories", fmt_count(facts["linked"])),
        ("Roots (no cause)", fmt_count(facts["roots"])),
        ("Sinks (no effect)", fmt_count(facts["sinks"])),
        ("Max out / in-degree", f"{fmt_count(facts['max_out_degree'])} / {fmt_count(facts['max_in_degree'])}"),
        ("Acyclic", "yes (a DAG)" if dag else "no (has cycles)"),
    )))  # fmt: skip
    notes = [
        f"Mean weight {fmt_float(edges['mean_weight'])}; each linked memory has on average "
        f"{float(facts['mean_degree']):.2f} outgoing edges."
    ]
    if int(facts["isolated"]):
        notes.append(f"{fmt_count(facts['isolated'])} memories have no causal edge at all.")
    if int(edges["zero_weight"]):
        notes.append(
            f"{fmt_count(edges['zero_weight'])} edges have weight 0: they count for reachability but carry "
            "no strength along a path."
        )
    if int(edges["parallel"]):
        notes.append(
            f"{fmt_count(edges['parallel'])} edges run parallel to another edge between the same two memories "
            "(a path uses the strongest)."
        )
    if int(edges["self_loops"]):
        notes.append(f"{fmt_count(edges['self_loops'])} edges are self-loops.")
    sec.add(Paragraph(" ".join(notes)))
    sec.add(ctx.figure("degree_distribution", "Memories per in- and out-degree, log–log.",
                       plots.degree_distribution(_marginals(joint))))  # fmt: skip
    types = ctx.analytics.edge_type_summary()
    sec.add(ctx.figure("edge_type_summary", "Edges per type and the range of their weights.",
                       plots.edge_type_summary(types)))  # fmt: skip
    sec.add(frame_table(types, caption="Edges per type",
                        headers={"edge_type": "edge type", "mean_weight": "mean weight",
                                 "min_weight": "min", "max_weight": "max"}))  # fmt: skip
    degrees = ctx.analytics.degree_table(top=ctx.options.top)
    info = ctx.memory_info(degrees["memory_id"].tolist())
    degrees.insert(1, "tier", [info[m][0] for m in degrees["memory_id"]])
    degrees["tier"] = degrees["tier"].astype("Int64")
    sec.add(frame_table(degrees, caption="Best-connected memories", headers={"memory_id": "memory"},
                        note=f"Top {len(degrees)} by out-degree + in-degree."))  # fmt: skip
    if dag:
        sec.add(Paragraph(
            "The graph is acyclic, so total effects (`total_effect`) and d-separation questions are defined."
        ))  # fmt: skip
    else:
        import pandas as pd

        limit = ctx.options.top
        cycles = g.find_cycles(limit=limit)
        rows = pd.DataFrame({"length": [len(c) for c in cycles], "cycle": [_cycle_text(c) for c in cycles]})
        sec.add(Paragraph(
            "The graph has cycles: `total_effect` and d-separation need an acyclic graph (filter edges with "
            "`store.causal_graph(min_weight=..., edge_types=...)`), while paths, causes, effects and "
            "influence work as they are."
        ))  # fmt: skip
        sec.add(frame_table(rows, caption="Cycles found", numeric=["length"],
                            note=f"The {limit} shortest cycles found are listed (on a large strongly connected "
                            "component, the shortest through its busiest memories; see `find_cycles`)."
                            if len(rows) >= limit else ""))  # fmt: skip
    return sec


def adjustment_cells(g: Any, source: str, target: str) -> tuple[str, str]:
    """The "control for" and "minimal sets" cells of the chain ``source`` -> ``target``.

    "control for": the members of ``g.minimal_adjustment_set(source, target)`` (sorted, joined by
    ", "), or why there is nothing to name; "minimal sets": how many minimal valid sets exist (up to
    :data:`ADJUSTMENT_COUNT_LIMIT`, then ``"20+"``), or "—" when the effect is not identifiable.

    One call of ``g.adjustment_sets`` answers both: its list starts with the set
    ``minimal_adjustment_set`` returns, also when it stops at the limit, and is empty exactly when
    that is None (``target`` is a parent of ``source``), so the moral back-door graph is built once.

    Examples
    --------
    >>> from omega_graph import OmegaStore, StoredCausalEdge, StoredMemory
    >>> store = OmegaStore.new_in_memory()
    >>> _ = store.store_memories(StoredMemory(m, m, 1, 0.5, None, 0, 0) for m in "cxyab")
    >>> _ = store.store_causal_edges(StoredCausalEdge(f"e{u}{v}", u, v, 0.5, "causes", 0)
    ...                              for u, v in ["cx", "cy", "xy", "ab", "ba"])
    >>> g = store.causal_graph()
    >>> adjustment_cells(g, "x", "y"), adjustment_cells(g, "c", "y")
    (('c', '1'), ('nothing (no open back-door path)', '1'))
    >>> adjustment_cells(g, "y", "x")
    ('no valid set (x causes y directly)', '0')
    >>> adjustment_cells(g, "a", "b")
    ('not identifiable: a cycle among their causes (a → b → a)', '—')
    """
    try:
        sets, more = adjustment_sets_and_more(g, source, target, ADJUSTMENT_COUNT_LIMIT)
    except NotADAGError as err:
        return f"not identifiable: a cycle among their causes ({_cycle_text(err.cycle)})", "—"
    if not sets:
        return f"no valid set ({target} causes {source} directly)", "0"
    best = sets[0]
    control = ", ".join(sorted(best)) if best else "nothing (no open back-door path)"
    return control, f"{ADJUSTMENT_COUNT_LIMIT}+" if more else str(len(sets))


def _ranking_table(ctx: Context, df: pd.DataFrame, caption: str, note: str) -> Any:
    top = df.sort_values(["rank", "memory_id"]).head(ctx.options.top).reset_index(drop=True)
    info = ctx.memory_info(top["memory_id"].tolist())
    top = top.assign(
        tier=[info[m][0] for m in top["memory_id"]],
        importance=[info[m][1] for m in top["memory_id"]],
        content=[info[m][2] for m in top["memory_id"]],
    ).astype({"tier": "Int64"})
    top = top[["rank", "memory_id", "tier", "importance", "score", "content"]]
    return frame_table(top, caption=caption, note=note, headers={"memory_id": "memory"},
                       formats={"score": lambda v: f"{float(v):.4g}"}, numeric=["score"])  # fmt: skip


def strongest_chains(ctx: Context, influence: pd.DataFrame, drivers: pd.DataFrame) -> list[Any]:
    """The chains described in the module docstring: ``CausalPath`` objects, strongest first."""
    g = ctx.graph
    score = influence.set_index("memory_id")["score"]
    found: dict[tuple[str, str], Any] = {}
    tried = 0
    for source in drivers.sort_values(["rank", "memory_id"])["memory_id"]:
        if tried >= ctx.options.chain_sources:
            break
        strongest = ctx.store.strongest_neighbours(source, limit=1)
        if not strongest or strongest[0][1] <= 0:  # no edge of positive weight leaves it
            continue
        tried += 1
        eff = g.effects(source)
        eff = eff[eff["strength"] > 0]
        if eff.empty:
            continue
        scores = score.reindex(eff["memory_id"]).fillna(-1.0).to_numpy()
        eff = eff[scores == scores.max()]  # the most influenced memories reached (usually one)
        best = eff.sort_values(["strength", "memory_id"], ascending=[False, True]).iloc[0]
        target = str(best["memory_id"])
        try:
            found[(source, target)] = g.strongest_path(source, target)
        except NoPathError:  # pragma: no cover - effects said a positive path exists
            continue
    return sorted(found.values(), key=lambda p: (-p.strength, len(p.nodes), p.nodes))[: ctx.options.chains]


def chains_and_influence(ctx: Context) -> Section:
    import pandas as pd

    sec = Section("chains-influence", "Strongest chains and most influential memories")
    if ctx.stats.causal_edge_count == 0:
        sec.empty = "No data: influence and chains need causal edges."
        return sec
    g = ctx.graph
    influence = g.influence()
    drivers = g.influence(reverse=True)
    bound = max(influence.attrs.get("error_bound", 0.0), drivers.attrs.get("error_bound", 0.0))
    sec.add(Paragraph(
        "Influence is weighted PageRank (`CausalGraph.influence`, α = 0.85), run to convergence: the "
        f"scores are within {bound:.1e} of the exact ones (L1 distance). On the causal graph a memory "
        "ranks high when strong chains flow into it — an outcome shaped by many causes; on the reversed "
        "graph it ranks high when it drives many others — a root cause."
    ))  # fmt: skip
    top_ids = influence.sort_values(["rank", "memory_id"]).head(15)["memory_id"].tolist()
    sec.add(ctx.figure("influence_ranking", "The most influenced memories by PageRank score; colour is the tier.",
                       plots.influence_ranking(influence, top=15, tiers=ctx.tiers(top_ids))))  # fmt: skip
    sec.add(_ranking_table(ctx, influence, "Most influential memories (PageRank)", ""))
    sec.add(_ranking_table(ctx, drivers, "Strongest drivers (PageRank on the reversed graph)", ""))
    chains = strongest_chains(ctx, influence, drivers)
    sec.add(Paragraph(
        "Strongest chains: from each of the strongest drivers, the strongest path (the product of its edge "
        "weights is its strength) to the most influenced memory it reaches; strongest first. \"Control "
        "for\" says what to adjust for to estimate the driver's effect on the target from logged outcomes, "
        "by Pearl's back-door criterion (no member is an effect of the driver, and together they block "
        "every path that enters the driver through one of its causes): the smallest valid set "
        "(`minimal_adjustment_set`), ties broken by the sorted memory ids. When \"minimal sets\" is above "
        "1, other minimal valid sets exist (counted up to "
        f"{ADJUSTMENT_COUNT_LIMIT}); `omega-graph adjust DB X Y` lists them all. A cycle among the causes "
        "of the pair leaves the effect not identifiable by adjustment."
    ))  # fmt: skip
    if chains:
        cells = [adjustment_cells(g, p.nodes[0], p.nodes[-1]) for p in chains]
        rows = pd.DataFrame({
            "from": [p.nodes[0] for p in chains],
            "to": [p.nodes[-1] for p in chains],
            "edges": [len(p.edge_ids) for p in chains],
            "strength": [float(p.strength) for p in chains],
            "control for": [control for control, _ in cells],
            "minimal sets": [count for _, count in cells],
            "chain (edge weights on the arrows)": [_chain_text(list(p.nodes), list(p.weights)) for p in chains],
        })  # fmt: skip
        sec.add(frame_table(rows, caption="Strongest chains", formats={"strength": lambda v: f"{float(v):.4g}", "minimal sets": str},
                            numeric=["edges", "strength", "minimal sets"]))  # fmt: skip
        best = chains[0]
        if ctx.stats.causal_edge_count <= ctx.options.alternatives_max_edges and len(best.nodes) > 2:
            alts = g.top_paths(best.nodes[0], best.nodes[-1], k=4)
            if len(alts) > 1:
                alt = pd.DataFrame({
                    "#": list(range(1, len(alts) + 1)),
                    "edges": [len(p.edge_ids) for p in alts],
                    "strength": [float(p.strength) for p in alts],
                    "route": [_chain_text(list(p.nodes), list(p.weights)) for p in alts],
                })  # fmt: skip
                sec.add(frame_table(alt, caption=f"Routes from {best.nodes[0]} to {best.nodes[-1]}, strongest first",
                                    formats={"strength": lambda v: f"{float(v):.4g}"},
                                    numeric=["#", "edges", "strength"]))  # fmt: skip
    else:
        sec.add(Paragraph("No chain of positive strength leaves the strongest drivers."))
    focus = top_ids[0] if top_ids else None
    if focus is not None:
        fig = plots.causal_neighbourhood(ctx.store, focus, radius=ctx.options.neighbourhood_radius,
                                         max_nodes=ctx.options.neighbourhood_nodes)  # fmt: skip
        sec.add(ctx.figure("causal_neighbourhood", f"The causes and effects of {focus}, the most influential "
                           "memory: edge width by weight, node colour by tier.", fig))  # fmt: skip
    return sec
