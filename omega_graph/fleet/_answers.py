"""Per-store graph answers, plain Python over one store's frames: what each Spark, Dask or Ray task runs.

Each function takes one store's ``memories`` and ``causal_edges`` rows as pandas frames (the columns
of the fleet export's Parquet, see :mod:`omega_graph.graph._frames`), builds omega-graph's own
snapshot from them (:func:`~omega_graph.graph._frames.graph_from_frames`, no store and no file) and
asks the engine: :meth:`~omega_graph.graph.CausalGraph.is_dag`,
:meth:`~omega_graph.graph.CausalGraph.find_cycles`, the strongly connected components (the ``omega``
networkx backend), :meth:`~omega_graph.graph.CausalGraph.influence` and
:meth:`~omega_graph.graph.CausalGraph.strongest_path`. Nothing here imports Spark.

The answers equal the engine's on the store file the frames were exported from, read as
``OmegaStore(path).causal_graph(include_invalidated=True)``: the export holds the crate's seven
tables but not the belief side tables, so an edge the store invalidated is an edge of the exported
graph.

A question the engine refuses for one store (an edge weight that is not a number in [0, 1], stored as
text and exported as NULL, say) does not stop the others: that answer is null and ``reason`` holds the
engine's message. ``reason`` is null when every answer of the row was given.

Other engines
-------------
The functions are plain Python, so any engine that hands a task one store's frames can call them.
With Dask (not installed here; one task per store of an export ``OUT``, reading exactly the files
the manifest lists)::

    import dask, os, pandas as pd
    from omega_graph.fleet import read_manifest, store_answers

    def answers(entry):
        def table(name):
            return pd.read_parquet(os.path.join(OUT, entry.files[name]))
        row = store_answers(table("memories"), table("causal_edges"), top_k=10)
        return row.assign(store=entry.store_id)

    tasks = [dask.delayed(answers)(e) for e in read_manifest(OUT, required=True).stores]
    frame = pd.concat(dask.compute(*tasks), ignore_index=True)

Ray is the same with ``ray.remote(answers)`` and ``ray.get([answers.remote(e) for e in ...])``.

Examples
--------
>>> import pandas as pd
>>> memories = pd.DataFrame({"id": ["a", "b", "c", "d"], "tier": 1, "importance": 0.5})
>>> edges = pd.DataFrame({"id": ["ab", "bc", "cb"], "from_memory": ["a", "b", "c"],
...                       "to_memory": ["b", "c", "b"], "weight": [0.9, 0.5, 0.2],
...                       "edge_type": "causes", "created_at": 0})
>>> store_answers(memories, edges, top_k=2).iloc[0].to_dict()
{'is_dag': False, 'cycle': ['b', 'c'], 'scc_count': 3, 'top_influence': ['b', 'c'], 'reason': None}
>>> store_paths(memories, edges, [("a", "c"), ("c", "a"), ("a", "x")]).values.tolist()
[['a', 'c', ['a', 'b', 'c'], 0.45, None], ['c', 'a', None, 0.0, "no causal path from 'c' to 'a' of positive strength"], \
['a', 'x', None, nan, "target 'x' is not a memory of this store"]]
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from ..errors import ConvergenceError, NoPathError, ValidationError
from ..graph._frames import EDGE_COLUMNS, MEMORY_COLUMNS, graph_from_frames

if TYPE_CHECKING:
    import pandas as pd

    from ..graph import CausalGraph

__all__ = [
    "ANSWER_COLUMNS",
    "KIND_MARKER",
    "KIND_MEMORY",
    "KIND_PAIR",
    "PATH_COLUMNS",
    "answer_group",
    "path_group",
    "store_answers",
    "store_paths",
]

ANSWER_COLUMNS = ("is_dag", "cycle", "scc_count", "top_influence", "reason")
PATH_COLUMNS = ("src", "dst", "nodes", "strength", "reason")
#: What a row of the Spark job's left side is (see :func:`answer_group`): a memory, a pair, a store.
KIND_MEMORY, KIND_PAIR, KIND_MARKER = 0, 1, 2


def check_top_k(top_k: object) -> int:
    """``top_k`` as an int >= 1, else :class:`ValidationError`."""
    if isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1:
        raise ValidationError(
            "graph answers", "top_k", top_k, "an integer >= 1 (how many memory ids to list)"
        )
    return top_k


def _answers(graph: CausalGraph, top_k: int) -> dict[str, Any]:
    import networkx as nx

    reason = None
    is_dag = graph.is_dag()
    cycle = None
    if not is_dag:
        found = graph.find_cycles(limit=1)
        cycle = found[0] if found else None
    scc = int(nx.number_strongly_connected_components(graph)) if len(graph) else 0
    top: list[str] | None
    if len(graph) == 0:
        top = []
    else:
        try:
            top = graph.influence().memory_id.head(top_k).tolist()
        except (ValidationError, ConvergenceError) as err:
            top, reason = None, f"influence: {err}"
    return {"is_dag": is_dag, "cycle": cycle, "scc_count": scc, "top_influence": top, "reason": reason}


def store_answers(memories: pd.DataFrame, edges: pd.DataFrame, top_k: int = 10) -> pd.DataFrame:
    """One store's graph answers: a one-row DataFrame.

    Parameters
    ----------
    memories, edges : pandas.DataFrame
        The store's ``memories`` (``id``, ``tier``, ``importance``) and ``causal_edges`` (``id``,
        ``from_memory``, ``to_memory``, ``weight``, ``edge_type``, ``created_at``) rows, as the fleet
        export writes them; other columns are ignored.
    top_k : int, default 10
        How many memory ids ``top_influence`` lists.

    Returns
    -------
    pandas.DataFrame
        One row: ``is_dag`` (bool: no directed cycle, self-loops are cycles); ``cycle`` (list of
        memory ids, the engine's first cycle ``find_cycles(limit=1)[0]``: a shortest one, rotated to
        start at its smallest id; None on a DAG); ``scc_count`` (int: every strongly connected
        component, singletons included, each memory being a node); ``top_influence`` (list of the
        ``top_k`` memory ids of greatest converged influence, ``CausalGraph.influence()``, ties by
        id; fewer when the store holds fewer memories; None when the engine refuses, see
        ``reason``); ``reason`` (None, or why an answer is null).

    Raises
    ------
    ValidationError
        ``top_k`` not an integer >= 1, or a frame lacking a column.
    """
    import pandas as pd

    top_k = check_top_k(top_k)
    row = _answers(graph_from_frames(memories, edges), top_k)
    columns = {k: pd.Series([row[k]], dtype=object) for k in ANSWER_COLUMNS}
    columns["is_dag"] = pd.Series([row["is_dag"]], dtype=bool)
    columns["scc_count"] = pd.Series([row["scc_count"]], dtype="int64")
    return pd.DataFrame(columns, columns=list(ANSWER_COLUMNS))


def _pair_list(pairs: Any) -> list[tuple[Any, Any]]:
    import pandas as pd

    if isinstance(pairs, pd.DataFrame):
        missing = [c for c in ("src", "dst") if c not in pairs.columns]
        if missing:
            raise ValidationError(
                "strongest paths", "pairs", list(pairs.columns), "a frame with src and dst columns"
            )
        return list(zip(pairs["src"].tolist(), pairs["dst"].tolist(), strict=True))
    if isinstance(pairs, str | bytes) or not isinstance(pairs, Iterable):
        raise ValidationError("strongest paths", "pairs", pairs, "(src, dst) pairs of memory ids")
    out = []
    for pair in pairs:
        if isinstance(pair, str | bytes) or not isinstance(pair, tuple | list) or len(pair) != 2:
            raise ValidationError("strongest paths", "pair", pair, "a (src, dst) pair of memory ids")
        out.append((pair[0], pair[1]))
    return out


def _path_row(graph: CausalGraph, src: Any, dst: Any) -> dict[str, Any]:
    """One pair's answer; a question the engine refuses gives nodes None and the reason."""
    for role, memory in (("source", src), ("target", dst)):
        if not isinstance(memory, str):
            return _row(src, dst, None, float("nan"), f"{role} {memory!r} is not a memory id (str)")
        if memory not in graph:
            return _row(src, dst, None, float("nan"), f"{role} {memory!r} is not a memory of this store")
    try:
        path = graph.strongest_path(src, dst)
    except NoPathError as err:
        return _row(src, dst, None, 0.0, str(err))
    except ValidationError as err:
        return _row(src, dst, None, float("nan"), str(err))
    return _row(src, dst, list(path.nodes), float(path.strength), None)


def _row(src: Any, dst: Any, nodes: list[str] | None, strength: float, reason: str | None) -> dict[str, Any]:
    return {"src": src, "dst": dst, "nodes": nodes, "strength": strength, "reason": reason}


def _path_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    import pandas as pd

    columns = {c: pd.Series([r[c] for r in rows], dtype=object) for c in PATH_COLUMNS}
    columns["strength"] = pd.Series([r["strength"] for r in rows], dtype="float64")
    return pd.DataFrame(columns, columns=list(PATH_COLUMNS))


def store_paths(memories: pd.DataFrame, edges: pd.DataFrame, pairs: Any) -> pd.DataFrame:
    """The strongest path of each ``(src, dst)`` pair of one store: a DataFrame, one row per pair.

    Parameters
    ----------
    memories, edges : pandas.DataFrame
        The store's rows, as for :func:`store_answers`.
    pairs : iterable of (src, dst), or a DataFrame with ``src`` and ``dst`` columns
        Memory ids; every pair gets its row, duplicates included.

    Returns
    -------
    pandas.DataFrame
        ``src``, ``dst``; ``nodes`` (list of memory ids of the path of greatest strength, the product
        of its weights, ``CausalGraph.strongest_path``; None when there is none); ``strength``
        (float: the path's, 1.0 from a memory to itself; 0.0 when no path of positive strength
        exists; NaN when the question cannot be asked: an id that is not a memory of the store, or
        a weight the engine refuses); ``reason`` (None when ``nodes`` is given, else why not: the
        engine's message).

    Raises
    ------
    ValidationError
        ``pairs`` not pairs, or a frame lacking a column.
    """
    wanted = _pair_list(pairs)
    graph = graph_from_frames(memories, edges)
    return _path_frame([_path_row(graph, s, t) for s, t in wanted])


# ----- the Spark tasks (see omega_graph.fleet._graph): one call per store, frames from Arrow -------------
def answer_group(top_k: int, key: tuple[Any, ...], left: pd.DataFrame, edges: pd.DataFrame) -> pd.DataFrame:
    """One store's answers with its ``store`` column: the cogrouped task of ``graph_answers``.

    ``left`` holds the store's memories (``kind`` :data:`KIND_MEMORY`) and one marker row (``kind``
    :data:`KIND_MARKER`, so that a store without memories or edges is answered too).
    """
    memories = left[left["kind"] == KIND_MEMORY] if len(left) else left.reindex(columns=MEMORY_COLUMNS)
    if not len(edges):
        edges = edges.reindex(columns=EDGE_COLUMNS)
    frame = store_answers(memories, edges, top_k)
    frame.insert(0, "store", str(key[0]))
    return frame


def path_group(key: tuple[Any, ...], left: pd.DataFrame, edges: pd.DataFrame) -> pd.DataFrame:
    """One store's strongest paths with its ``store`` column: the cogrouped task of ``strongest_paths``.

    ``left`` holds the store's memories (``kind`` :data:`KIND_MEMORY`, ``id`` ...), the pairs asked of
    it (``kind`` :data:`KIND_PAIR`, ``id`` = src, ``dst``) and a marker row if the export holds the
    store (``kind`` :data:`KIND_MARKER`). A pair of a store the export does not hold gets nodes
    None, strength NaN and that reason.
    """
    store = str(key[0])
    kind = left["kind"] if len(left) else None
    if kind is None or not (kind == KIND_PAIR).any():
        return _path_frame([]).assign(store=store)[["store", *PATH_COLUMNS]]
    asked = left[kind == KIND_PAIR]
    wanted = list(zip(asked["id"].tolist(), asked["dst"].tolist(), strict=True))
    if not (kind == KIND_MARKER).any():
        why = f"store {store!r} is not in the export (not in its manifest)"
        rows = [_row(s, t, None, float("nan"), why) for s, t in wanted]
    else:
        memories = left[kind == KIND_MEMORY]
        if not len(edges):
            edges = edges.reindex(columns=EDGE_COLUMNS)
        graph = graph_from_frames(memories, edges)
        rows = [_path_row(graph, s, t) for s, t in wanted]
    frame = _path_frame(rows)
    frame.insert(0, "store", store)
    return frame
