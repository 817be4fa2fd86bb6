"""Section builders for the store's records: overview, memories, how the causal beliefs changed,
skills, architectures, intelligences, reflexion outcomes and activity. (The causal graph's sections
are in :mod:`._graph_sections`.)

Each builder takes the shared :class:`~._context.Context` and returns a :class:`~._model.Section`;
a section with nothing to show says so in ``empty`` instead of failing.
"""

from __future__ import annotations

import os

from .. import plots
from ._context import Context
from ._model import Facts, Paragraph, Section, fmt_count, fmt_float, fmt_percent, fmt_time, frame_table
from ._queries import (
    DUCK_ARCHITECTURE_IDS,
    DUCK_RECENT_REFLEXIONS,
    DUCK_REFLECTED_MEMORIES,
    DUCK_REVISED_EDGES,
    DUCK_TIME_SPAN,
    DUCK_TOP_INTELLIGENCES,
    DUCK_TOP_MEMORIES,
)

__all__ = [
    "activity",
    "architectures",
    "beliefs",
    "intelligences",
    "memories",
    "overview",
    "reflexions",
    "skills",
]


def _capped(shown: int, total: int, what: str) -> str:
    return f"Top {shown:,} of {total:,} {what}." if total > shown else ""


def overview(ctx: Context) -> Section:
    s = ctx.stats
    sec = Section("overview", "Overview")
    counts = ctx.analytics.overview().set_index("entity")["count"]
    labels = {
        "memories": "Memories", "causal_edges": "Causal edges", "vectors": "Vectors",
        "reflexion_episodes": "Reflexion episodes", "skills": "Skills",
        "architectures": "Architectures", "intelligences": "Intelligences",
    }  # fmt: skip
    sec.add(Facts(tuple((label, fmt_count(counts.get(entity, 0))) for entity, label in labels.items())))
    span = ctx.sql(DUCK_TIME_SPAN)
    first, last = (span.iloc[0]["first"], span.iloc[0]["last"]) if len(span) else (None, None)
    version = ctx.store.schema_version
    path = ctx.store.path
    where = f"`{path}` ({fmt_count(os.path.getsize(path) // 1024)} KiB)" if path else "an in-memory store"
    text = f"This report describes {where}, schema version {version}."
    if s.memory_count == 0 and s.causal_edge_count == 0:
        text += " The store holds no memories and no causal edges yet: the sections below say 'no data'."
    elif first is not None:
        text += f" Its records were created between {fmt_time(first)} and {fmt_time(last)} (UTC)."
    sec.add(Paragraph(text))
    if len(ctx.anomalies):
        per_column = ctx.anomalies.groupby(["table", "column"]).size()
        listed = ", ".join(f"`{t}.{c}` ({n:,})" for (t, c), n in per_column.items())
        sec.add(Paragraph(
            f"Data quality: {len(ctx.anomalies):,} stored values do not have their column's type and are read "
            f"as missing in this report: {listed}. `Analytics.type_anomalies()` lists them."
        ))  # fmt: skip
    if s.memory_count:
        withdrawn = int(ctx.belief_facts["invalidated_now"])
        believed = (
            f" ({fmt_count(withdrawn)} of them invalidated now: the chains and influence below leave them "
            "out; the graph structure counts every stored edge)"
            if withdrawn else ""
        )  # fmt: skip
        sec.add(Paragraph(
            f"{fmt_count(s.memory_count)} memories are linked by {fmt_count(s.causal_edge_count)} causal "
            f"edges{believed}; {fmt_count(s.vector_count)} vectors embed them and {fmt_count(s.reflexion_count)} "
            "reflexion episodes look back on them. All times in this report are UTC; weights, "
            "importance, maturity and fitness lie in [0, 1]."
        ))  # fmt: skip
    return sec


def memories(ctx: Context) -> Section:
    sec = Section("memories", "Memories by tier and importance")
    if ctx.stats.memory_count == 0:
        sec.empty = "No data: the store holds no memories."
        return sec
    tiers = ctx.analytics.tier_summary()
    hist = ctx.analytics.importance_histogram(ctx.options.histogram_bins)
    total = int(tiers["memories"].sum())
    embedded = int(tiers["with_embedding"].sum())
    mean = float((tiers["mean_importance"] * tiers["memories"]).sum() / total) if total else float("nan")
    busiest = tiers.sort_values(["memories", "tier"], ascending=[False, True]).iloc[0] if total else None
    sec.add(Facts((
        ("Tiers in use", f"{len(tiers)} of 12"),
        ("Busiest tier", f"{int(busiest['tier'])} ({fmt_count(busiest['memories'])})" if busiest is not None else "—"),
        ("Mean importance", fmt_float(mean)),
        ("With an embedding", fmt_percent(embedded / total) if total else "—"),
    )))  # fmt: skip
    sec.add(ctx.figure("tier_distribution", "Memories per tier; dots: mean importance, red bars: median.",
                       plots.tier_distribution(tiers)))  # fmt: skip
    sec.add(ctx.figure("importance_histogram", f"Importance of all memories in {ctx.options.histogram_bins} bins.",
                       plots.importance_histogram(hist)))  # fmt: skip
    table = tiers.assign(share=tiers["memories"] / total if total else 0.0)
    table = table[["tier", "memories", "share", "mean_importance", "median_importance", "min_importance",
                   "max_importance", "with_embedding"]]  # fmt: skip
    sec.add(frame_table(table, caption="Memories per tier",
                        headers={"mean_importance": "mean", "median_importance": "median",
                                 "min_importance": "min", "max_importance": "max",
                                 "with_embedding": "with embedding"}))  # fmt: skip
    top = ctx.sql(DUCK_TOP_MEMORIES, ctx.options.top)
    sec.add(frame_table(top, caption="Most important memories", headers={"memory_id": "memory"},
                        note=_capped(len(top), total, "memories")))  # fmt: skip
    return sec


def beliefs(ctx: Context) -> Section:
    import pandas as pd

    sec = Section("beliefs", "How the causal beliefs changed")
    facts = ctx.belief_facts
    if int(facts["revised"]) == 0:
        sec.empty = (
            "No data: no causal edge was invalidated, reinstated, given a validity window or re-weighted."
        )
        return sec
    sec.add(Facts((
        ("Edges revised", fmt_count(facts["revised"])),
        ("Invalidated now", fmt_count(facts["invalidated_now"])),
        ("Invalidations", fmt_count(facts["invalidations"])),
        ("Reinstatements", fmt_count(facts["reinstatements"])),
        ("Weight changes", fmt_count(facts["weight_changes"])),
        ("Validity windows set", fmt_count(facts["validity_settings"])),
    )))  # fmt: skip
    daily = ctx.analytics.edge_churn("day")
    if len(daily):
        first, last = daily["period"].min(), daily["period"].max()
        freq = plots.choose_period(0, int((last - first).total_seconds()))
        frame = daily if freq == "day" else ctx.analytics.edge_churn(freq)
        sec.add(ctx.figure("edge_churn", f"Causal edges created (top), invalidated and reinstated (bottom) per "
                           f"{freq} (UTC), by the time each takes effect.", plots.edge_churn(frame, freq=freq)))  # fmt: skip
    sec.add(Paragraph(
        f"The store withdrew its belief in {fmt_count(facts['invalidated_now'])} causal edges and has not "
        "reinstated them: snapshots (`store.causal_graph()`) leave them out, `causal_graph(known_at=t)` "
        "shows what the store believed at time t and `store.edge_history(edge_id)` tells one edge's story. "
        "Changes count invalidations, reinstatements, validity windows set and weight updates in place."
    ))  # fmt: skip
    top = ctx.analytics.belief_changes(ctx.options.top)
    ends = ctx.sql(DUCK_REVISED_EDGES, top["edge_id"].tolist()).set_index("edge_id")
    table = pd.DataFrame({
        "edge_id": top["edge_id"],
        "link": [f"{ends.at[e, 'from_memory']} → {ends.at[e, 'to_memory']}" if e in ends.index else "—"
                 for e in top["edge_id"]],
        "weight": [ends.at[e, "weight"] if e in ends.index else None for e in top["edge_id"]],
        "believed now": [("no" if ends.at[e, "invalidated"] else "yes") if e in ends.index else "—"
                         for e in top["edge_id"]],
        "changes": top["changes"],
        "last_reason": top["last_reason"],
    })  # fmt: skip
    sec.add(frame_table(table, caption="Most revised edges",
                        headers={"edge_id": "edge", "link": "cause → effect", "last_reason": "last reason"},
                        note=_capped(len(top), int(facts["revised"]), "revised edges")))  # fmt: skip
    return sec


def skills(ctx: Context) -> Section:
    sec = Section("skills", "Skills")
    board = ctx.analytics.skill_leaderboard()
    if board.empty:
        sec.empty = "No data: the store holds no skills."
        return sec
    used = board[board["success_count"].fillna(0) > 0]
    total = int(board["success_count"].fillna(0).sum())
    sec.add(Facts((
        ("Skills", fmt_count(len(board))),
        ("Successes in all", fmt_count(total)),
        ("Never succeeded", fmt_count(len(board) - len(used))),
        ("Top skill", str(board.iloc[0]["name"]) if total else "—"),
    )))  # fmt: skip
    shown = board.head(max(ctx.options.top, 15))
    sec.add(frame_table(shown[["rank", "name", "success_count", "share", "last_used", "created_at"]],
                        caption="Skills by success count", headers={"success_count": "successes"},
                        note=_capped(len(shown), len(board), "skills")))  # fmt: skip
    return sec


def architectures(ctx: Context) -> Section:
    import pandas as pd

    sec = Section("architectures", "Architectures and their lineage")
    if ctx.stats.architecture_count == 0:
        sec.empty = "No data: the store holds no architectures."
        return sec
    summary = ctx.analytics.architecture_summary()
    sec.add(frame_table(summary, caption="Architectures per paradigm",
                        headers={"mean_fitness": "mean fitness", "max_fitness": "best fitness"}))  # fmt: skip
    ids = ctx.sql(DUCK_ARCHITECTURE_IDS, max(ctx.options.lineages * 4, 32))["id"].tolist()
    chains: list[pd.DataFrame] = []
    for arch in ids:
        chains.append(ctx.analytics.architecture_lineage(arch))
    # keep maximal chains: drop a chain that is the tail of a longer one
    keys = [tuple(c["architecture_id"]) for c in chains]
    maximal = [c for c, k in zip(chains, keys, strict=True)
               if not any(len(o) > len(k) and o[len(o) - len(k):] == k for o in keys)]  # fmt: skip
    maximal.sort(key=lambda c: (-len(c), str(c["architecture_id"].iloc[0])))
    rows = []
    for chain in maximal[: ctx.options.lineages]:
        root_first = chain.iloc[::-1]
        fitness = root_first["fitness"]
        rows.append({
            "architecture": chain["architecture_id"].iloc[0],
            "generations": len(chain),
            "lineage (root first)": " → ".join(map(str, root_first["architecture_id"])),
            "fitness along the lineage": " → ".join(fmt_float(f, 2) for f in fitness),
            "broken": "parent missing" if not bool(chain["in_store"].iloc[-1]) else "",
        })  # fmt: skip
    if rows:
        df = pd.DataFrame(rows)
        if not df["broken"].astype(bool).any():
            df = df.drop(columns="broken")
        sec.add(Paragraph(
            "Each lineage follows `lineage_json`'s parent links from an architecture back to its root; "
            "lineages that are part of a longer one are not repeated."
        ))  # fmt: skip
        sec.add(frame_table(df, caption="Longest lineages", numeric=["generations"],
                            note=_capped(len(rows), len(maximal), "lineages")))  # fmt: skip
    return sec


def intelligences(ctx: Context) -> Section:
    sec = Section("intelligences", "Intelligences")
    if ctx.stats.intelligence_count == 0:
        sec.empty = "No data: the store holds no intelligences."
        return sec
    summary = ctx.analytics.intelligence_summary()
    top = ctx.sql(DUCK_TOP_INTELLIGENCES, ctx.options.top)
    mean = ctx.sql("SELECT avg(maturity) AS m FROM clean_intelligences")["m"].iloc[0]
    sec.add(Facts((
        ("Intelligences", fmt_count(ctx.stats.intelligence_count)),
        ("Architectures used", fmt_count(len(summary))),
        ("Mean maturity", fmt_float(mean)),
        ("Most mature", f"{top.iloc[0]['name']} ({fmt_float(top.iloc[0]['maturity'])})" if len(top) else "—"),
    )))  # fmt: skip
    sec.add(frame_table(summary, caption="Intelligences per architecture",
                        headers={"arch_id": "architecture id", "mean_maturity": "mean maturity",
                                 "min_maturity": "min", "max_maturity": "max"}))  # fmt: skip
    sec.add(frame_table(top, caption="Most mature intelligences",
                        headers={"intelligence_id": "intelligence", "arch_id": "architecture"},
                        note=_capped(len(top), ctx.stats.intelligence_count, "intelligences")))  # fmt: skip
    return sec


def reflexions(ctx: Context) -> Section:
    sec = Section("reflexions", "Reflexion outcomes")
    if ctx.stats.reflexion_count == 0:
        sec.empty = "No data: the store holds no reflexion episodes."
        return sec
    outcomes = ctx.analytics.reflexion_outcomes()
    lead = outcomes.iloc[0]
    sec.add(Facts((
        ("Episodes", fmt_count(ctx.stats.reflexion_count)),
        ("Outcomes", fmt_count(len(outcomes))),
        ("Most common", f"{lead['outcome']} ({fmt_percent(lead['share'])})"),
        ("Memories reflected on", fmt_count(ctx.sql(DUCK_REFLECTED_MEMORIES)["n"].iloc[0])),
    )))  # fmt: skip
    sec.add(frame_table(outcomes, caption="Episodes per outcome",
                        headers={"first_at": "first", "last_at": "last"}))  # fmt: skip
    recent = ctx.sql(DUCK_RECENT_REFLEXIONS, min(ctx.options.top, 8))
    sec.add(frame_table(recent, caption="Newest episodes", headers={"memory_id": "memory", "created_at": "created"},
                        note=_capped(len(recent), ctx.stats.reflexion_count, "episodes")))  # fmt: skip
    return sec


def activity(ctx: Context) -> Section:
    sec = Section("activity", "Activity over time")
    span = ctx.sql(DUCK_TIME_SPAN)
    if span.empty or span.iloc[0].isna().all():
        sec.empty = "No data: no memory, causal edge or reflexion episode has a creation time."
        return sec
    first, last = int(span.iloc[0]["first"]), int(span.iloc[0]["last"])
    days = (last - first) / 86_400
    freq = plots.choose_period(first, last)
    frame = ctx.analytics.activity(freq)
    sec.add(ctx.figure("activity_timeline", f"Records created per {freq} (UTC).",
                       plots.activity_timeline(frame, freq=freq)))  # fmt: skip
    frame = frame.assign(total=frame["memories"] + frame["edges"] + frame["reflexions"])
    busiest = frame.sort_values(["total", "period"], ascending=[False, True]).head(5)
    sec.add(Paragraph(
        f"Records span {fmt_time(first)} to {fmt_time(last)} ({days:,.1f} days), counted per {freq}; "
        f"{fmt_count((frame['total'] > 0).sum())} of {fmt_count(len(frame))} {freq}s saw activity."
    ))  # fmt: skip
    pattern = {"day": "%Y-%m-%d", "week": "%Y-%m-%d", "month": "%Y-%m", "year": "%Y"}[freq]
    sec.add(frame_table(busiest, caption=f"Busiest {freq}s", headers={"period": f"{freq} starting" if freq == "week" else freq},
                        formats={"period": lambda v: v.strftime(pattern)}))  # fmt: skip
    return sec
