"""The built wheel is the product: it installs into a fresh virtualenv and runs the demo there, on the
networks it carries (no repository, no network besides the package index for the dependencies)."""

from __future__ import annotations

import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_wheel_installs_in_a_fresh_venv_and_runs_the_demo(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(REPO)],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert build.returncode == 0, build.stderr
    assert "deprecat" not in (build.stdout + build.stderr).lower(), build.stderr  # nothing of ours warns
    (wheel,) = dist.glob("omega_graph-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    bundled = {Path(p).name for p in (REPO / "data").rglob("*") if p.is_file()}
    assert bundled <= {Path(n).name for n in names if n.startswith("omega_graph/data/")}
    assert "omega_graph/py.typed" in names and "_omega_graph_nx/__init__.py" in names

    env_dir = tmp_path / "fresh"
    venv.create(env_dir, with_pip=True)
    pip = subprocess.run(
        [str(env_dir / "bin" / "pip"), "install", "-q", str(wheel)],
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert pip.returncode == 0, pip.stderr
    out = tmp_path / "demo"
    demo = subprocess.run(
        [str(env_dir / "bin" / "omega-graph"), "demo", "--out", str(out), "-q"],
        capture_output=True, text=True, timeout=600, cwd=tmp_path,  # not the repository: its data/ is not there
    )  # fmt: skip
    assert demo.returncode == 0, demo.stderr
    assert (out / "report" / "report.html").is_file() and (out / "omega-sample.db").is_file()
    backends = subprocess.run(
        [str(env_dir / "bin" / "python"), "-c", "import networkx; print(sorted(networkx.utils.backends.backends))"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert "omega" in backends.stdout, backends.stderr
