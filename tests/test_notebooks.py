"""The notebooks in ``notebooks/`` run top to bottom, on this venv's interpreter, and show their figures.

Each notebook is executed in memory by a fresh Jupyter kernel (``nbclient``) whose kernel spec is
written into a temporary directory and points at ``sys.executable``, so the kernel runs exactly the
interpreter (and installed ``omega_graph``) of the test session, whatever kernels the machine has.
The kernel's working directory and ``TMPDIR`` are the test's ``tmp_path``: a notebook cannot depend
on the directory it is started from, and whatever it leaves behind is cleaned up with the test.
The files in ``notebooks/`` are committed with their outputs (``make notebooks`` writes them, by the
same run: :mod:`tests.notebook_run`); the tests only read them, run each again and check that it
still shows what is committed. A failed run saves the executed copy under ``tmp_path`` and names it
in the failure message.
"""

from __future__ import annotations

import ast
import hashlib
import re
import sys
from pathlib import Path

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from nbclient.exceptions import CellExecutionError, CellTimeoutError

from tests.notebook_run import NOTEBOOK_DIR, comparable, kernel_specs, run

NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
#: Notebooks and the least number of figures each must show.
MIN_FIGURES = {"01_quickstart": 0, "02_causal_paths": 3, "03_statistics_report": 5}
#: Files a notebook leaves in its temporary directory for the reader to open.
LEFT_FOR_THE_READER = {"03_statistics_report": ("report.html", "report.md")}
#: The only omega_graph modules a notebook may import (the public API).
PUBLIC_MODULES = {"omega_graph", "omega_graph.plots", "omega_graph.report", "omega_graph.sample"}


def _ids(paths: list[Path]) -> list[str]:
    return [p.stem for p in paths]


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _code_cells(nb: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    return [c for c in nb.cells if c.cell_type == "code"]


def _python_source(cell_source: str) -> str:
    """The cell's Python, with IPython magics and shell escapes blanked out."""
    return "\n".join(
        "" if line.lstrip().startswith(("%", "!")) else line for line in cell_source.splitlines()
    )


@pytest.fixture(scope="module")
def kernel_spec_manager(tmp_path_factory: pytest.TempPathFactory) -> KernelSpecManager:
    """A kernel spec ``python3`` that launches this interpreter, and nothing else."""
    return kernel_specs(tmp_path_factory.mktemp("kernels"))


# ----- the committed files -------------------------------------------------------------------------
def test_the_three_notebooks_exist() -> None:
    assert [p.stem for p in NOTEBOOKS] == sorted(MIN_FIGURES)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_notebook_is_stored_with_its_outputs(path: Path) -> None:
    """Valid nbformat 4, the python3 kernel, every code cell run once, in order (``make notebooks``), so
    that a reader browsing the repository sees the results."""
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    counts = [c.execution_count for c in _code_cells(nb)]
    assert counts == list(range(1, len(counts) + 1)), f"{path.name}: run `make notebooks` and commit it"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_notebook_uses_only_the_public_api(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    imported: set[str] = set()
    for cell in _code_cells(nb):
        for node in ast.walk(ast.parse(_python_source(cell.source))):
            if isinstance(node, ast.ImportFrom) and node.module:
                imported.add(node.module)
            elif isinstance(node, ast.Import):
                imported.update(alias.name for alias in node.names)
    ours = {m for m in imported if m.split(".")[0] == "omega_graph"}
    assert "omega_graph" in ours
    assert ours <= PUBLIC_MODULES, f"{path.name} imports non-public modules {sorted(ours - PUBLIC_MODULES)}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_notebook_opens_with_a_title_and_narrates(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# ")
    markdown = [c for c in nb.cells if c.cell_type == "markdown"]
    assert len(markdown) >= len(_code_cells(nb)) // 3, "explain what each step asks and what it shows"


def test_readme_describes_every_notebook() -> None:
    text = (NOTEBOOK_DIR / "README.md").read_text(encoding="utf-8")
    missing = [p.name for p in NOTEBOOKS if p.name not in text]
    assert not missing, f"notebooks/README.md does not mention {missing}"


# ----- execution -----------------------------------------------------------------------------------
def test_kernel_runs_this_interpreter(kernel_spec_manager: KernelSpecManager, tmp_path: Path) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_code_cell("import os, sys\nprint(sys.executable)\nprint(os.getcwd())"))
    run(nb, kernel_spec_manager, tmp_path)
    lines = nb.cells[0].outputs[0]["text"].splitlines()
    assert Path(lines[0]).resolve() == Path(sys.executable).resolve()
    assert Path(lines[1]).resolve() == tmp_path.resolve()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_notebook_runs_top_to_bottom(
    path: Path, kernel_spec_manager: KernelSpecManager, tmp_path: Path
) -> None:
    before = _digest(path)
    committed = nbformat.read(path, as_version=4)
    nb = nbformat.read(path, as_version=4)
    workdir = tmp_path / "cwd"
    workdir.mkdir()
    try:
        run(nb, kernel_spec_manager, workdir)
    except (CellExecutionError, CellTimeoutError) as err:
        saved = tmp_path / f"{path.stem}.executed.ipynb"
        nbformat.write(nb, saved)
        pytest.fail(f"{path.name}: a cell failed (executed copy: {saved})\n{err}", pytrace=False)
    finally:
        assert _digest(path) == before, f"running {path.name} modified the committed file"

    cells = _code_cells(nb)
    assert all(c.execution_count is not None for c in cells), "every code cell ran"
    for i, cell in enumerate(cells):
        for out in cell.outputs:
            assert out.output_type != "error", f"{path.name} code cell {i}: {out.ename}: {out.evalue}"
            if out.output_type == "stream" and out.name == "stderr":
                assert not re.search(r"Warning|Error|Traceback", out.text), (
                    f"{path.name} code cell {i} wrote to stderr:\n{out.text}"
                )

    images = [o for c in cells for o in c.outputs if "image/png" in o.get("data", {})]
    assert len(images) >= MIN_FIGURES[path.stem], f"{path.name}: {len(images)} figure(s) shown"
    for i, cell in enumerate(cells):
        last = _python_source(cell.source).strip().splitlines()[-1]
        if last.startswith("plots."):
            assert any("image/png" in o.get("data", {}) for o in cell.outputs), (
                f"{path.name} code cell {i} ends with a figure but shows no image"
            )
    shown = [c for c in cells if c.outputs]
    assert len(shown) >= len(cells) // 2, "most cells show a result"
    fresh, stored = comparable(nb), comparable(committed)
    for i, (now, then) in enumerate(zip(fresh, stored, strict=True)):
        assert now == then, (
            f"{path.name} code cell {i} shows something else than the committed output: run `make notebooks`"
        )
    for name in LEFT_FOR_THE_READER.get(path.stem, ()):
        found = sorted(workdir.rglob(name))
        assert len(found) == 1 and found[0].stat().st_size > 1000, f"{path.name} should write one {name}"
