"""The causal graph layer: path and influence questions over a snapshot of a store's causal edges.

``store.causal_graph(...)`` returns a :class:`CausalGraph`; see its docstring for the semantics.
Modules: :mod:`.snapshot` (the arrays), :mod:`.loading` (the full read), :mod:`._refresh`
(catching up through the change logs), :mod:`._cache` (the persisted snapshot a new process
reopens), :mod:`.paths`, :mod:`.reach`, :mod:`.influence`, :mod:`.structure`, :mod:`.identification`
(with :mod:`._questions`, the identification and networkx methods CausalGraph inherits).
"""

from .causal_graph import CausalGraph
from .paths import CausalPath

__all__ = ["CausalGraph", "CausalPath"]
