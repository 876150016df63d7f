"""Run a file reader in a separate worker process with a memory and a time limit.

Why: the readers (calamine's Rust XLSX parser, Arrow, pandas) allocate what a file
declares. A 1.9 KB workbook with one stray cell at XFD1048576 made calamine ask for
549 GB and abort — which killed the whole `streamlit run` server and every other user's
session. In a worker with ``RLIMIT_AS`` such a file kills only the worker, and the user
gets one message. Workers are forked from a clean fork server (not from the server's
many threads), so a lock held by another thread at fork time cannot hang them.
"""
from __future__ import annotations

import multiprocessing as mp
import multiprocessing.spawn as mp_spawn
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Callable

from .limits import ReaderLimits, reader_limits
from .problems import InputError, file_problem

_PRELOAD = ["core.ingest", "core.payouts", "core.portfolio"]
_context: Any = None
_context_lock = threading.Lock()  # the first upload and the warm-up (ui.router) may ask at once


def _ctx() -> Any:
    """The fork server context, started once per process with the readers imported."""
    global _context
    with _context_lock:
        if _context is None:
            methods = mp.get_all_start_methods()
            _context = mp.get_context("forkserver" if "forkserver" in methods else "spawn")
            if "forkserver" in methods:
                _context.set_forkserver_preload(_PRELOAD)
            if not hasattr(mp_spawn.get_preparation_data, "__wrapped__"):
                mp_spawn.get_preparation_data = _preparation_without_main(mp_spawn.get_preparation_data)  # type: ignore[assignment]
        return _context


def warm_readers() -> None:
    """Start the fork server now, with the readers imported in it. Why: it starts on the first
    read otherwise, and that read waited for it — measured 0.71 s of wall time for a two-line
    CSV, 0.03 s for every later read; on the server that was the first upload's or the first
    Portfolio visit's wait. Without a fork server (spawn) there is nothing to start early."""
    if _ctx().get_start_method() == "forkserver":
        from multiprocessing import forkserver

        forkserver.ensure_running()


_batch = threading.local()  # set by batch_process() in the thread that runs a batch command


@contextmanager
def batch_process() -> Iterator[None]:
    """A batch command (the CLI) reads its files inside this block: while the process runs no
    other thread, its readers fork from it directly — with the same memory and time limits,
    but without starting a fork server that imports the readers again (about 0.6 s of CPU
    per run, a quarter of a 1.1M-row portfolio). A lock another thread held at fork time is
    what the fork server avoids; with no other thread there is none, and the moment there is
    one (a test runner's, Dask's), the fork server is used again."""
    _batch.on = True
    try:
        yield
    finally:
        _batch.on = False


def _start_context() -> Any:
    if getattr(_batch, "on", False) and threading.active_count() == 1 and "fork" in mp.get_all_start_methods():
        return mp.get_context("fork")
    return _ctx()


WORKER_NAME = "rebate-reader"


def _preparation_without_main(original: Callable[[str], dict[str, Any]]) -> Callable[[str], dict[str, Any]]:
    """multiprocessing re-imports the caller's __main__ in every child. In a Streamlit server
    __main__ is the running page script (Streamlit swaps sys.modules["__main__"] per run),
    and a script without a main guard would recurse. The readers were preloaded by the fork
    server and need nothing from it, so our workers' preparation data leaves it out."""
    def prepare(name: str) -> dict[str, Any]:
        data = original(name)
        if name.startswith(WORKER_NAME):
            data.pop("init_main_from_path", None)
            data.pop("init_main_from_name", None)
        return data
    prepare.__wrapped__ = original  # type: ignore[attr-defined]
    return prepare


def _address_space() -> int:
    """Bytes of address space this process already has (its VSZ): the limit is on top."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        return 0


def _limit_memory(extra_mb: int) -> None:
    try:
        import resource
    except ImportError:  # not on this platform: the time limit still holds
        return
    cap = _address_space() + extra_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))


def _child(conn: Any, fn: Callable[..., Any], args: tuple[Any, ...], memory_mb: int) -> None:
    """The worker: limit itself, run, send ('ok', result) or why not."""
    try:
        import faulthandler

        faulthandler.disable()  # a reader that aborts is reported by the parent in one line, not dumped on the shared stderr
        _limit_memory(memory_mb)
        try:
            reply: tuple[str, Any] = ("ok", fn(*args))
        except InputError as exc:
            reply = ("input", exc.problems)
        except MemoryError:
            reply = ("memory", None)
        except RecursionError:
            reply = ("crash", "RecursionError")
        except Exception as exc:  # a reader bug: one message, never a traceback to the user
            reply = ("crash", type(exc).__name__)
        try:
            conn.send(reply)
        except MemoryError:
            conn.send(("memory", None))
    finally:
        conn.close()


def run_isolated(fn: Callable[..., Any], args: tuple[Any, ...], name: str, limits: ReaderLimits | None = None) -> Any:
    """fn(*args) in a worker; its InputError comes back as is, a death or a limit as one
    InputError naming the file. fn must be a module-level function (it is pickled)."""
    limits = limits or reader_limits()
    ctx = _start_context()
    receive, send = ctx.Pipe(duplex=False)
    worker = ctx.Process(target=_child, args=(send, fn, args, limits.memory_mb), daemon=True, name=f"{WORKER_NAME}-{name[:40]}")
    worker.start()
    send.close()
    try:
        kind, payload = _receive(receive, limits.seconds)
    finally:
        receive.close()
        if worker.is_alive():
            worker.kill()
        worker.join(5)
    if kind == "ok":
        return payload
    if kind == "input":
        raise InputError(list(payload))
    raise _refusal(kind, payload, name, limits, worker.exitcode)


def _receive(conn: Any, seconds: int) -> tuple[str, Any]:
    if not conn.poll(seconds):
        return "timeout", None
    try:
        return conn.recv()
    except (EOFError, OSError):  # the worker died (an abort, the kernel's OOM killer)
        return "died", None


def _refusal(kind: str, detail: Any, name: str, limits: ReaderLimits, exitcode: int | None) -> InputError:
    if kind == "timeout":
        return file_problem(name, "read_timeout",
                            f"reading the file took longer than {limits.seconds} s; save it again with only the data range, or split it by quarter",
                            seconds=limits.seconds)
    if kind in ("memory", "died"):
        return file_problem(name, "read_memory",
                            f"reading the file needs more than {limits.memory_mb:,} MB of memory (a sheet whose used range is far larger than its data, or a compressed bomb); "
                            "save it again with only the data range (copy the data into a new workbook)",
                            mb=f"{limits.memory_mb:,}")
    return file_problem(name, "read_crash", f"the reader could not read this file ({detail}); export it again as CSV",
                        detail=str(detail))


__all__ = ["batch_process", "run_isolated", "warm_readers"]
