"""Execute the notebooks the way the tests do, and compare or store their outputs.

The notebooks are committed *with* their outputs, produced by this run, so that a reader browsing the
repository sees results; ``tests/test_notebooks.py`` runs each one again and checks that what it
shows still matches what is committed (:func:`comparable`: text as shown, temporary paths, object
addresses and timings masked; figures by count and size in pixels).

    python -m tests.notebook_run            # execute every notebook and write its outputs in place
    python -m tests.notebook_run 02         # only the notebooks whose name contains "02"

Each notebook runs in a fresh Jupyter kernel on this interpreter, in an empty temporary working
directory with ``TMPDIR`` pointing into it, and with a fixed hash seed.
"""

from __future__ import annotations

import json
import os
import re
import struct
import sys
import tempfile
from pathlib import Path
from typing import Any

import nbclient
import nbformat
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager

NOTEBOOK_DIR = Path(__file__).resolve().parents[1] / "notebooks"
#: Seconds one cell may run (they take well under a second; this only stops a hang).
CELL_TIMEOUT_S = 180
KERNEL_START_TIMEOUT_S = 120


def kernel_specs(root: Path) -> KernelSpecManager:
    """A kernel spec ``python3`` under ``root`` that launches this interpreter, and nothing else."""
    spec_dir = root / "python3"
    spec_dir.mkdir(parents=True, exist_ok=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": f"omega-graph test kernel ({sys.executable})",
        "language": "python",
        "metadata": {"debugger": False},
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")
    return KernelSpecManager(kernel_dirs=[str(root)], ensure_native_kernel=False)


def run(nb: nbformat.NotebookNode, ksm: KernelSpecManager, workdir: Path) -> nbformat.NotebookNode:
    """Execute ``nb`` in place with a fresh kernel running in ``workdir``."""
    km = KernelManager(kernel_name="python3", kernel_spec_manager=ksm)
    client = nbclient.NotebookClient(
        nb,
        km=km,
        kernel_name="python3",
        timeout=CELL_TIMEOUT_S,
        startup_timeout=KERNEL_START_TIMEOUT_S,
        resources={"metadata": {"path": str(workdir)}},
    )
    env = {**os.environ, "TMPDIR": str(workdir), "PYTHONHASHSEED": "0"}
    env.pop("PYTHONSTARTUP", None)
    try:
        client.execute(env=env, cleanup_kc=True)  # nbclient keeps a kernel it did not create alive
    finally:
        if km.has_kernel:
            km.shutdown_kernel(now=True)
    return nb


# ----- comparing outputs ------------------------------------------------------------------------------
_MASKS = [
    (re.compile(r"(/[^\s'\"]*)?/(tmp|pytest-of-[^/\s]+)/[^\s'\"]*"), "<tmp path>"),
    (re.compile(r"\b0x[0-9a-f]{6,}\b"), "<address>"),
    (re.compile(r"\b\d+(\.\d+)?\s?(s|ms|µs|us|seconds)\b"), "<time>"),
]


def _mask(text: str) -> str:
    for pattern, replacement in _MASKS:
        text = pattern.sub(replacement, text)
    return text


def _png_size(b64: str) -> tuple[int, int]:
    import base64

    head = base64.b64decode(b64[:64])
    return struct.unpack(">II", head[16:24])


def comparable(nb: nbformat.NotebookNode) -> list[list[Any]]:
    """Per code cell, what it shows: text (masked) and figures by size; HTML tables by their text form."""
    shown = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        outs: list[Any] = []
        for out in cell.outputs:
            if out.output_type == "stream":  # the kernel may split a stream in chunks: join them
                if outs and outs[-1][0] == out.name:
                    outs[-1] = (out.name, outs[-1][1] + out.text)
                else:
                    outs.append((out.name, out.text))
            elif out.output_type in ("execute_result", "display_data"):
                data = out.get("data", {})
                if "image/png" in data:
                    outs.append(("png", _png_size(data["image/png"])))
                elif "text/plain" in data:
                    outs.append(("text", _mask(data["text/plain"])))
            elif out.output_type == "error":
                outs.append(("error", out.ename))
        shown.append([(kind, _mask(v) if isinstance(v, str) else v) for kind, v in outs])
    return shown


def execute_in_place(path: Path) -> None:
    """Run the notebook at ``path`` and write it back with its outputs."""
    nb = nbformat.read(path, as_version=4)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        workdir = root / "cwd"
        workdir.mkdir()
        run(nb, kernel_specs(root / "kernels"), workdir)
    nbformat.write(nb, path)


def main(argv: list[str]) -> int:
    for path in sorted(NOTEBOOK_DIR.glob("*.ipynb")):
        if argv and not any(a in path.name for a in argv):
            continue
        print(f"executing {path.name}", flush=True)
        execute_in_place(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
