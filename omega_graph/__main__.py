"""``python -m omega_graph``: the same command line as the ``omega-graph`` script."""

from .cli import main

if __name__ == "__main__":
    main()
