"""The DuckDB worker process (run as a script by :class:`omega_graph.duck.Worker`; not imported).

It reads requests from its stdin and answers on its stdout, both as frames: an 8-byte little-endian
length, then a pickle. Started with a third argument (a handler spec), the process runs that handler as
``function(None, None)`` first, before it reads requests; the handler may leave work running in a
thread of its own (DuckDB's extension check while the first request's own imports run). A request is ``(handler, args)``; ``handler`` is ``"package.module:function"``
(imported) or ``"/path/to/file.py:function"`` (loaded from the file alone, without its package, for
a fast start). The function is called as ``function(args, emit)``; ``emit(payload)`` sends a
``("part", payload)`` frame at once (from any thread), and the call ends with ``("done", result,
warnings)`` or ``("error", error, warnings)``. Warnings raised by the handler travel back and are
issued again in the parent, at the caller's line.

Dying with the parent: a thread reads the requests; end of file on stdin (the parent closed the
worker, or died) ends the process at once, even in the middle of a query. The process also asks
Linux for ``SIGKILL`` when its parent thread ends (``prctl(PR_SET_PDEATHSIG)``) when the worker was
started from the parent's main thread, and a watchdog ends it if its parent process changes.
Nothing it writes by accident (a print, a progress bar) can reach the protocol: file descriptor 1
is pointed at stderr, the protocol uses a private copy of the original.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import pickle
import queue
import struct
import sys
import threading
import time
import traceback
import warnings
from collections.abc import Callable
from typing import Any

HEADER = struct.Struct("<Q")
_modules: dict[str, Any] = {}


def _die_with_parent(parent: int, main_thread: bool) -> None:
    if sys.platform.startswith("linux") and main_thread:
        try:
            import ctypes
            import signal

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, int(signal.SIGKILL), 0, 0, 0)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):  # pragma: no cover - not Linux after all
            pass
    if os.getppid() != parent:  # the parent died before the request above
        os._exit(3)

    def watch() -> None:
        while True:
            time.sleep(1.0)
            if os.getppid() != parent:
                os._exit(3)

    threading.Thread(target=watch, name="omega-duck-watchdog", daemon=True).start()


def _read_exact(fd: int, n: int) -> bytes:
    chunks, left = [], n
    while left:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            os._exit(0)  # the parent closed the worker or died: stop now, mid-query or not
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _reader(fd: int, requests: queue.Queue[Any]) -> None:
    while True:
        (n,) = HEADER.unpack(_read_exact(fd, HEADER.size))
        requests.put(pickle.loads(_read_exact(fd, n)))


class _Out:
    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.lock = threading.Lock()

    def send(self, message: tuple[Any, ...]) -> None:
        data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
        with self.lock:
            view = memoryview(HEADER.pack(len(data)) + data)
            while view:
                view = view[os.write(self.fd, view) :]


def _handler(spec: str) -> Callable[..., Any]:
    module_name, _, function = spec.rpartition(":")
    module = _modules.get(module_name)
    if module is None:
        if module_name.endswith(".py"):
            name = "_omega_duck_handler_" + os.path.basename(module_name)[:-3]
            loader = importlib.util.spec_from_file_location(name, module_name)
            assert loader is not None and loader.loader is not None
            module = importlib.util.module_from_spec(loader)
            sys.modules[name] = module
            loader.loader.exec_module(module)
        else:
            module = importlib.import_module(module_name)
        _modules[module_name] = module
    fn: Callable[..., Any] = getattr(module, function)
    return fn


def _portable(err: BaseException) -> dict[str, Any]:
    """What the parent needs to raise the error again: its class, message and attributes."""
    attrs = {}
    for key, value in vars(err).items():
        try:
            pickle.dumps(value)
        except Exception:
            continue
        attrs[key] = value
    return {
        "module": type(err).__module__,
        "name": type(err).__qualname__,
        "message": str(err),
        "attrs": attrs,
        "traceback": "".join(traceback.format_exception(err)[-3:]),
    }


def _warnings(caught: list[warnings.WarningMessage]) -> list[tuple[str, str, str]]:
    return [(w.category.__module__, w.category.__qualname__, str(w.message)) for w in caught]


def _prepare(spec: str) -> None:
    try:
        _handler(spec)(None, None)
    except Exception:  # a start-up optimisation: the requests report real failures
        traceback.print_exc()


def main() -> None:
    parent, main_thread = int(sys.argv[1]), sys.argv[2] == "1"
    _die_with_parent(parent, main_thread)
    if len(sys.argv) > 3:  # a start-up step (a handler spec), run before the first request is read
        _prepare(sys.argv[3])
    rfd, wfd = os.dup(0), os.dup(1)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(2, 1)  # stray output goes to the log, never into the protocol
    out = _Out(wfd)
    requests: queue.Queue[Any] = queue.Queue()
    threading.Thread(target=_reader, args=(rfd, requests), name="omega-duck-reader", daemon=True).start()
    out.send(("ready", os.getpid()))
    while True:
        spec, args = requests.get()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                result = _handler(spec)(args, lambda payload: out.send(("part", payload)))
            except BaseException as err:
                out.send(("error", _portable(err), _warnings(caught)))
                continue
        try:
            out.send(("done", result, _warnings(caught)))
        except (pickle.PicklingError, TypeError, AttributeError) as err:  # nothing was written yet
            out.send(("error", _portable(err), _warnings(caught)))


if __name__ == "__main__":
    main()
