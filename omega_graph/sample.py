"""The bundled sample store: six published causal networks as one omega store, built deterministically.

The networks (asia, sachs, child, insurance, alarm, sachs_cdt_consensus) come as edge lists in the
repository's ``data/`` directory, in the ``source,target[,weight]`` format read by
:func:`iter_edge_csv` (the format ``omega-graph import-edges`` reads), with ``data/nodes/<name>.txt``
listing every node. ``data/README.md`` gives their provenance. Every derived value follows a rule:

Memories (one per node, id ``<network>:<node>``, e.g. ``asia:smoke``)
    *Order*: topological, ties broken by position in the node file; a strongly connected component
    (the one feedback cycle of ``sachs_cdt_consensus``) is placed as a block, members in node-file order.
    *Depth*: longest chain of edges from a root, on the graph of strongly connected components.
    *Tier*: ``1 + floor(11 * depth / max_depth + 0.5)``: roots in tier 1, the deepest nodes in tier 12.
    *Importance*: ``round(0.1 + 0.9 * (0.6 * descendants / (n - 1) + 0.4 * out_degree / max_out_degree), 6)``.
    *Content*: the node, its network and publication, its parents and children (searchable text).
    *created_at*: network ``k`` (in the order above) starts on day ``2k`` after :data:`EPOCH`; its
    memories are created 15 minutes apart in topological order. *last_accessed*: the latest time the
    memory was created, linked by an edge or reflected on.
    *embedding_blob*: the memory's vector (below) for even topological positions, else None.
Causal edges (one per CSV row, id ``<network>:edge-<row>``, row counted from 0)
    *weight*: the published link strength. ``sachs_cdt_consensus`` has none: an edge takes the weight of
    the same link in the bnlearn ``sachs`` network (same study and proteins, names mapped by
    :data:`SACHS_CDT_NAMES`), in either direction; the 3 links ``sachs`` lacks take the median of its
    17 weights. *edge_type*: ``feedback`` if both ends lie on one cycle, else ``causes`` (weight >= 0.5),
    ``enables`` (0.2 <= weight < 0.5) or ``correlates`` (weight < 0.2, including 0). *created_at*: the
    day after the network's memories, 10 minutes apart in CSV row order (so a time-respecting path
    must follow the order in which links were recorded).
Vectors (id ``vec:<memory id>``, 64 dimensions, one per memory)
    The unit-length sum of pseudo-random unit vectors drawn from SHAKE-256 of the node (weight 1), of
    each parent and child (0.5) and of the network (0.25): causally linked memories are similar.
Reflexion episodes (id ``refl:<memory id>``, one per node with two or more parents or on a cycle)
    Outcome ``deferred`` for a node on a cycle, else by its weakest incoming weight (can every cause
    be confirmed?): ``resolved`` (>= 0.4), ``partially_resolved`` (>= 0.15), ``escalated`` (below);
    created 30 minutes apart after the network's edges.
Skills (:data:`SKILLS`)
    Regex trigger patterns; ``success_count`` = number of sample memories whose content the pattern
    matches (``re.search``), ``last_used`` = the newest of them (None when none match).
Architectures (:data:`ARCHITECTURES`) and intelligences
    A lineage of causal-discovery approaches (``lineage_json`` = ``{"generation": g, "parent": id}``),
    fitness figures marked ``"basis": "illustrative"``. One intelligence per network, on the approach
    that produced it (expert elicitation; score search for sachs; consensus for cdt), maturity = the
    network's mean edge weight, plus one generalist.

Examples
--------
>>> store = build_sample_store(None)
>>> stats = store.get_statistics()
>>> stats.memory_count, stats.causal_edge_count
(114, 166)
>>> store.get_memory("asia:smoke").tier
1
>>> [(e.to_memory, e.weight) for e in store.get_causal_edges_from("asia:smoke")]
[('asia:bronc', 0.3), ('asia:lung', 0.09)]
>>> store.close()
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import statistics
import struct
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .edge_csv import EdgeCSVError, EdgeRow, iter_edge_csv, read_edge_csv, read_node_file
from .errors import ConflictError, NotFoundError, ValidationError
from .models import (
    StoredArchitecture,
    StoredCausalEdge,
    StoredIntelligence,
    StoredMemory,
    StoredReflexionEpisode,
    StoredSkill,
    StoredVector,
    pack_f32,
)

if TYPE_CHECKING:
    from .store import OmegaStore

__all__ = [
    "ARCHITECTURES",
    "EPOCH",
    "NETWORKS",
    "SACHS_CDT_NAMES",
    "SKILLS",
    "EdgeCSVError",
    "EdgeRow",
    "Network",
    "SampleData",
    "atomic_build",
    "build_sample_store",
    "default_data_dir",
    "iter_edge_csv",
    "read_edge_csv",
    "read_node_file",
    "sample_records",
]

#: Unix time of the first sample memory (2025-11-24 16:00:00 UTC, as in the compat files).
EPOCH = 1_764_000_000
DAY = 86_400
EMBEDDING_DIMENSIONS = 64


@dataclass(frozen=True, slots=True)
class Network:
    """A bundled causal network: file stem, title, publication and subject."""

    name: str
    title: str
    reference: str
    subject: str


#: The bundled networks, in build order (network ``k`` starts on day ``2k``).
NETWORKS: tuple[Network, ...] = (
    Network("asia", "Asia", "Lauritzen & Spiegelhalter, JRSS-B 50(2), 1988", "chest-clinic diagnosis"),
    Network("sachs", "Sachs", "Sachs et al., Science 308:523, 2005", "protein signalling in T cells"),
    Network("child", "CHILD", "Spiegelhalter & Cowell, Bayesian Statistics 4, 1992",
            "congenital heart disease in newborns"),
    Network("insurance", "Insurance", "Binder et al., Machine Learning 29, 1997", "car insurance risk"),
    Network("alarm", "ALARM", "Beinlich et al., AIME 1989", "patient monitoring in anaesthesia"),
    Network("sachs_cdt_consensus", "Sachs consensus (cdt)", "Sachs et al., Science 308:523, 2005",
            "protein signalling, consensus structure with feedback"),
)  # fmt: skip

#: cdt's protein names mapped to the bnlearn ``sachs`` names (the same measured proteins).
SACHS_CDT_NAMES: dict[str, str] = {
    "P38": "P38", "PIP2": "PIP2", "PIP3": "PIP3", "PKA": "PKA", "PKC": "PKC", "p44/42": "Erk",
    "pakts473": "Akt", "pjnk": "Jnk", "plcg": "Plcg", "pmek": "Mek", "praf": "Raf",
}  # fmt: skip

#: (name, description, trigger pattern); the last one matches no sample memory on purpose.
SKILLS: tuple[tuple[str, str, str], ...] = (
    ("diagnose_chest_clinic", "Reason from chest-clinic findings to lung disease",
     r"\b(tub|lung|bronc|either|xray|dysp)\b"),
    ("trace_signalling_cascade", "Follow a protein-signalling cascade",
     r"\b(Raf|Mek|Erk|Akt|PKA|PKC|P38|Jnk|[Pp]lcg|PIP[23]|praf|pmek|pjnk|pakts473)\b|p44/42"),
    ("neonatal_cardiac_triage", "Triage a newborn with suspected heart disease",
     r"BirthAsphyxia|Disease|Grunting|LVH|CardiacMixing|DuctFlow"),
    ("assess_claim_cost", "Estimate the cost side of an insurance claim", r"\b[A-Z]\w*Cost\b"),
    ("check_ventilator", "Check the ventilator circuit first",
     r"\bVENT(MACH|TUBE|LUNG|ALV)\b|\bKINKEDTUBE\b|\bDISCONNECT\b"),
    ("explain_common_effect", "Explain a variable with several causes", r"Parents: [^.]+, "),
    ("find_root_cause", "Start from exogenous variables", r"Parents: none"),
    ("break_feedback_loop", "Reason about a feedback cycle", r"feedback cycle"),
    ("design_intervention_study", "Plan a randomised trial", r"randomi[sz]ed (controlled )?trial"),
)  # fmt: skip

#: (id, name, paradigm, substrate, parent id or None, overall fitness); generation follows parents.
ARCHITECTURES: tuple[tuple[str, str, str, str, str | None, float], ...] = (
    ("arch:expert-elicited", "Expert-elicited Bayesian network", "symbolic", "bayesian-network", None, 0.55),
    ("arch:constraint-search", "Constraint-based search (PC)", "symbolic", "conditional-independence",
     "arch:expert-elicited", 0.6),
    ("arch:score-search", "Score-based search", "symbolic", "bayesian-score", "arch:expert-elicited", 0.62),
    ("arch:hybrid-search", "Hybrid constraint + score search", "hybrid", "mmhc", "arch:constraint-search", 0.66),
    ("arch:continuous-dag", "Continuous DAG optimisation", "neural", "gradient", "arch:score-search", 0.64),
    ("arch:graph-neural", "Graph neural structure learner", "neural", "gnn", "arch:continuous-dag", 0.68),
    ("arch:consensus", "Consensus of learned structures", "hybrid", "ensemble", "arch:hybrid-search", 0.7),
    ("arch:omega-agent", "Agent with causal memory", "hybrid", "omega-store", "arch:graph-neural", 0.74),
)  # fmt: skip

_INTELLIGENCE_ARCH = {"sachs": "arch:score-search", "sachs_cdt_consensus": "arch:consensus"}


def default_data_dir() -> Path:
    """The directory holding the bundled networks.

    ``$OMEGA_GRAPH_DATA`` if set, else the networks installed with the package (``omega_graph/data``,
    which the repository's ``data/`` links to), else ``./data``. Raises :class:`NotFoundError` if
    none holds ``asia.csv``.

    >>> (default_data_dir() / "asia.csv").is_file()
    True
    """
    env = os.environ.get("OMEGA_GRAPH_DATA")
    candidates = [Path(env)] if env else []
    candidates += [Path(__file__).resolve().parent / "data", Path.cwd() / "data"]
    for candidate in candidates:
        if (candidate / "asia.csv").is_file():
            return candidate
    raise NotFoundError(
        "sample data directory",
        str(candidates[0]),
        "pass data_dir= (the repository's data/ directory) or set OMEGA_GRAPH_DATA",
    )


# --------------------------------------------------------------------------------------------------
# The sample records


@dataclass(frozen=True, slots=True)
class SampleData:
    """Every record of the sample store, in the order they are stored."""

    architectures: tuple[StoredArchitecture, ...]
    memories: tuple[StoredMemory, ...]
    causal_edges: tuple[StoredCausalEdge, ...]
    vectors: tuple[StoredVector, ...]
    reflexions: tuple[StoredReflexionEpisode, ...]
    skills: tuple[StoredSkill, ...]
    intelligences: tuple[StoredIntelligence, ...]


@dataclass(slots=True)
class _Built:
    network: str
    memories: list[StoredMemory]
    edges: list[StoredCausalEdge]
    vectors: list[StoredVector]
    reflexions: list[StoredReflexionEpisode]
    is_dag: bool
    mean_weight: float
    start: int
    end: int


def _unit_vector(token: str) -> list[float]:
    digest = hashlib.shake_256(token.encode("utf-8")).digest(4 * EMBEDDING_DIMENSIONS)
    raw = [x / 2**31 - 1.0 for x in struct.unpack(f"<{EMBEDDING_DIMENSIONS}I", digest)]
    norm = math.sqrt(sum(x * x for x in raw))
    return [x / norm for x in raw]


def _embedding(network: str, node: str, neighbours: list[str]) -> list[float]:
    acc = [0.0] * EMBEDDING_DIMENSIONS
    terms = [(f"{network}:{node}", 1.0), *((f"{network}:{m}", 0.5) for m in neighbours), (network, 0.25)]
    for token, scale in terms:
        for j, x in enumerate(_unit_vector(token)):
            acc[j] += scale * x
    norm = math.sqrt(sum(x * x for x in acc))
    return [x / norm for x in acc]


def _network_weights(name: str, rows: list[EdgeRow], sachs_rows: list[EdgeRow] | None) -> list[float]:
    """Published weights; for the unweighted cdt consensus, borrowed from bnlearn ``sachs``."""
    if all(r.weight is not None for r in rows):
        return [float(r.weight) for r in rows]  # type: ignore[arg-type]
    if name != "sachs_cdt_consensus" or not sachs_rows:
        raise ValidationError(
            "edge_csv", "weight", name, "a weight column (only sachs_cdt_consensus may lack one)"
        )
    published = {(r.source, r.target): float(r.weight) for r in sachs_rows}  # type: ignore[arg-type]
    fallback = statistics.median(published.values())
    out = []
    for r in rows:
        a, b = SACHS_CDT_NAMES.get(r.source, r.source), SACHS_CDT_NAMES.get(r.target, r.target)
        out.append(published.get((a, b), published.get((b, a), fallback)))
    return out


def _build_network(
    k: int, net: Network, nodes: list[str], rows: list[EdgeRow], weights: list[float]
) -> _Built:
    import networkx as nx

    graph = nx.DiGraph()
    graph.add_nodes_from(nodes)
    for r in rows:
        graph.add_node(r.source)  # an endpoint the node file forgot still becomes a memory
        graph.add_node(r.target)
        graph.add_edge(r.source, r.target)
    position = {v: i for i, v in enumerate(graph.nodes)}
    comps = nx.condensation(graph)
    members = {c: sorted(comps.nodes[c]["members"], key=position.__getitem__) for c in comps}
    comp_order = list(nx.lexicographical_topological_sort(comps, key=lambda c: position[members[c][0]]))
    depth: dict[int, int] = {}
    for c in comp_order:
        depth[c] = max((depth[p] + 1 for p in comps.predecessors(c)), default=0)
    order = [v for c in comp_order for v in members[c]]
    of = comps.graph["mapping"]
    max_depth = max(depth.values())
    n = len(order)
    max_out = max((graph.out_degree(v) for v in order), default=0) or 1
    cyclic = {v for c in comps for v in members[c] if len(members[c]) > 1}
    cycle_text = {v: " -> ".join([*members[of[v]], members[of[v]][0]]) for v in cyclic}

    start = EPOCH + 2 * k * DAY
    created = {v: start + 900 * i for i, v in enumerate(order)}
    last_seen = dict(created)
    edges = []
    in_weights: dict[str, list[tuple[float, str]]] = {v: [] for v in order}
    for i, (r, w) in enumerate(zip(rows, weights, strict=True)):
        at = start + DAY + 600 * i
        if r.source in cyclic and of[r.source] == of[r.target]:
            kind = "feedback"
        else:
            kind = "causes" if w >= 0.5 else "enables" if w >= 0.2 else "correlates"
        edges.append(
            StoredCausalEdge(
                f"{net.name}:edge-{i:03d}", f"{net.name}:{r.source}", f"{net.name}:{r.target}", w, kind, at
            )
        )
        in_weights[r.target].append((w, r.source))
        for v in (r.source, r.target):
            last_seen[v] = max(last_seen[v], at)

    reflexions = []
    t = start + DAY + 600 * len(rows)
    for v in order:
        parents = list(graph.predecessors(v))
        if len(parents) < 2 and v not in cyclic:
            continue
        w, weakest = min(in_weights[v], key=lambda x: (x[0], position[x[1]]))
        if v in cyclic:
            outcome = "deferred"
        else:
            outcome = "resolved" if w >= 0.4 else "partially_resolved" if w >= 0.15 else "escalated"
        t += 1800
        context = {"network": net.name, "parents": parents, "weakest_parent": weakest, "weight": w}
        reflexions.append(
            StoredReflexionEpisode(
                f"refl:{net.name}:{v}",
                f"{net.name}:{v}",
                f"unexpected value of {v}",
                json.dumps(context, sort_keys=True),
                f"checked {len(parents)} parent(s); weakest link {weakest} -> {v} (weight {w:g})",
                outcome,
                t,
            )
        )
        last_seen[v] = max(last_seen[v], t)

    memories, vectors = [], []
    for i, v in enumerate(order):
        parents, children = list(graph.predecessors(v)), list(graph.successors(v))
        vec = _embedding(net.name, v, sorted(parents + children, key=position.__getitem__))
        blob = pack_f32(vec)
        content = (
            f"{v}: a variable of the {net.title} network ({net.subject}; {net.reference}). "
            f"Parents: {', '.join(parents) or 'none (exogenous)'}. "
            f"Children: {', '.join(children) or 'none (an outcome)'}."
        )
        if v in cyclic:
            content += f" It lies on the feedback cycle {cycle_text[v]}."
        tier = 1 + math.floor(11 * depth[of[v]] / max_depth + 0.5) if max_depth else 1
        reach = len(nx.descendants(graph, v)) / (n - 1) if n > 1 else 0.0
        importance = round(0.1 + 0.9 * (0.6 * reach + 0.4 * graph.out_degree(v) / max_out), 6)
        mid = f"{net.name}:{v}"
        memories.append(
            StoredMemory(
                mid, content, tier, importance, blob if i % 2 == 0 else None, created[v], last_seen[v]
            )
        )
        vectors.append(StoredVector(f"vec:{mid}", mid, EMBEDDING_DIMENSIONS, blob))

    mean_weight = round(statistics.fmean(weights), 6) if weights else 0.0
    return _Built(
        net.name,
        memories,
        edges,
        vectors,
        reflexions,
        not cyclic,
        mean_weight,
        start,
        max(last_seen.values()),
    )


def _architectures() -> list[StoredArchitecture]:
    generation: dict[str, int] = {}
    out = []
    for i, (aid, name, paradigm, substrate, parent, overall) in enumerate(ARCHITECTURES):
        generation[aid] = 0 if parent is None else generation[parent] + 1
        lineage = json.dumps({"generation": generation[aid], "parent": parent})
        fitness = json.dumps({"overall": overall, "basis": "illustrative"})
        out.append(
            StoredArchitecture(
                aid, name, paradigm, substrate, fitness, lineage, EPOCH - 60 * DAY + 7 * DAY * i
            )
        )
    return out


def _skills(memories: list[StoredMemory]) -> list[StoredSkill]:
    out = []
    for name, description, pattern in SKILLS:
        rx = re.compile(pattern)
        hits = [m.created_at for m in memories if rx.search(m.content)]
        out.append(
            StoredSkill(
                f"skill:{name}",
                name,
                description,
                pattern,
                len(hits),
                max(hits) if hits else None,
                EPOCH - DAY,
            )
        )
    return out


def _intelligences(built: list[_Built], skills: list[StoredSkill]) -> list[StoredIntelligence]:
    out = []
    for b in built:
        top = sorted(b.memories, key=lambda m: -m.importance)[:5]  # stable: ties keep topological order
        caps = sorted(
            sk.name for sk in skills if any(re.search(sk.trigger_pattern, m.content) for m in b.memories)
        )
        state = {
            "status": "active",
            "network": b.network,
            "memories": len(b.memories),
            "edges": len(b.edges),
            "is_dag": b.is_dag,
        }
        out.append(
            StoredIntelligence(
                f"intel:{b.network}",
                f"{b.network} analyst",
                _INTELLIGENCE_ARCH.get(b.network, "arch:expert-elicited"),
                b.mean_weight,
                json.dumps(caps),
                json.dumps([m.id for m in top]),
                json.dumps(state, sort_keys=True),
                b.start,
                b.end,
            )
        )
    leaders = [json.loads(i.memories_json)[0] for i in out]
    state = {"status": "training", "networks": [b.network for b in built]}
    out.append(
        StoredIntelligence(
            "intel:generalist",
            "generalist",
            "arch:omega-agent",
            round(statistics.fmean(i.maturity for i in out), 6),
            json.dumps(sorted(s.name for s in skills)),
            json.dumps(leaders),
            json.dumps(state, sort_keys=True),
            EPOCH,
            max(i.updated_at for i in out),
        )
    )
    return out


def sample_records(data_dir: str | os.PathLike[str] | None = None) -> SampleData:
    """Every record of the sample store, derived from the networks in ``data_dir`` by the module's rules.

    Parameters
    ----------
    data_dir : str or os.PathLike, optional
        Directory with ``<network>.csv`` and ``nodes/<network>.txt`` for each of :data:`NETWORKS`;
        default :func:`default_data_dir`.

    Returns
    -------
    SampleData

    Examples
    --------
    >>> data = sample_records()
    >>> len(data.memories), len(data.causal_edges), data.memories[0].id
    (114, 166, 'asia:asia')
    >>> sorted({r.outcome for r in data.reflexions})
    ['deferred', 'escalated', 'partially_resolved', 'resolved']
    """
    root = Path(data_dir) if data_dir is not None else default_data_dir()
    rows = {net.name: read_edge_csv(root / f"{net.name}.csv") for net in NETWORKS}
    built = [
        _build_network(
            k,
            net,
            read_node_file(root / "nodes" / f"{net.name}.txt"),
            rows[net.name],
            _network_weights(net.name, rows[net.name], rows.get("sachs")),
        )
        for k, net in enumerate(NETWORKS)
    ]
    memories = [m for b in built for m in b.memories]
    skills = _skills(memories)
    return SampleData(
        architectures=tuple(_architectures()),
        memories=tuple(memories),
        causal_edges=tuple(e for b in built for e in b.edges),
        vectors=tuple(v for b in built for v in b.vectors),
        reflexions=tuple(r for b in built for r in b.reflexions),
        skills=tuple(skills),
        intelligences=tuple(_intelligences(built, skills)),
    )


@contextmanager
def atomic_build(path: str | os.PathLike[str], *, overwrite: bool = False) -> Iterator[str]:
    """Yield a temporary file beside ``path`` to build a store in; move it into place on success.

    The caller must close its store on the temporary file before the block ends. On an exception the
    temporary file is removed and ``path`` is left as it was, so a target is never half-written.

    Raises
    ------
    ConflictError
        If ``path`` exists and ``overwrite`` is False.
    NotFoundError
        If the directory of ``path`` does not exist.

    Examples
    --------
    >>> import tempfile, pathlib, sqlite3
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "new.db"
    >>> with atomic_build(target) as tmp:
    ...     sqlite3.connect(tmp).execute("CREATE TABLE t (x)").connection.close()
    >>> target.is_file(), len(list(target.parent.iterdir()))
    (True, 1)
    """
    target = Path(path)
    if target.is_dir():
        raise ValidationError("store", "path", os.fspath(path), "a file path, not a directory")
    if target.exists() and not overwrite:
        raise ConflictError(
            f"{os.fspath(path)!r} already exists; pass overwrite=True (CLI: --force) or choose a new path"
        )
    parent = target.parent
    if not parent.is_dir():
        raise NotFoundError("directory", os.fspath(parent), "create it first")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".building", dir=parent)
    os.close(fd)
    try:
        yield tmp
        for suffix in ("-wal", "-shm", "-journal"):
            Path(f"{target}{suffix}").unlink(missing_ok=True)
        os.replace(tmp, target)
    finally:
        for leftover in (tmp, f"{tmp}-wal", f"{tmp}-shm", f"{tmp}-journal"):
            Path(leftover).unlink(missing_ok=True)


def _store_sample(store: OmegaStore, data: SampleData) -> None:
    with store.transaction():
        for a in data.architectures:
            store.store_architecture(a)
        store.store_memories(data.memories)
        store.store_causal_edges(data.causal_edges)
        for v in data.vectors:
            store.store_vector(v)
        for r in data.reflexions:
            store.store_reflexion(r)
        for s in data.skills:
            store.store_skill(s)
        for i in data.intelligences:
            store.store_intelligence(i)


def build_sample_store(
    path: str | os.PathLike[str] | None,
    data_dir: str | os.PathLike[str] | None = None,
    *,
    overwrite: bool = False,
) -> OmegaStore:
    """Build the sample store from the bundled networks, in one transaction, and return it open.

    Parameters
    ----------
    path : str, os.PathLike or None
        The database file to create; None builds an in-memory store.
    data_dir : str or os.PathLike, optional
        Where the networks are (default :func:`default_data_dir`).
    overwrite : bool, default False
        Replace an existing file at ``path``. The store is built in a temporary file beside it and
        moved into place when complete, so ``path`` is never left half-written.

    Returns
    -------
    OmegaStore
        Open on the new store; close it (or use ``with``).

    Raises
    ------
    ConflictError
        If ``path`` exists and ``overwrite`` is False.

    Examples
    --------
    >>> with build_sample_store(None) as store:
    ...     [s.name for s in store.match_skills("the ventilator tube is kinked: KINKEDTUBE")]
    ['check_ventilator']
    """
    from .store import OmegaStore

    data = sample_records(data_dir)
    if path is None:
        store = OmegaStore.new_in_memory()
        _store_sample(store, data)
        return store
    with atomic_build(path, overwrite=overwrite) as tmp, OmegaStore(tmp) as store:
        _store_sample(store, data)
    return OmegaStore(path)
