"""A forked process and the two pipes to it: pickled values, each after its length, as multiprocessing.Pipe sends
them, without importing multiprocessing (10 ms on every incremental build)."""

from __future__ import annotations

import os
import pickle
import signal
import time
from collections.abc import Callable
from typing import Any


class Channel:
    """One end: values sent are pickled; `recv` raises EOFError once the other end is closed."""

    def __init__(self, read_fd: int, write_fd: int):
        self.read_fd, self.write_fd = read_fd, write_fd

    def send(self, value: Any) -> None:
        self.send_bytes(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))

    def send_bytes(self, data: bytes) -> None:
        """A value pickled already: blocks while the other end has not read enough of it."""
        self._write(len(data).to_bytes(8, "little"))
        self._write(data)

    def recv(self) -> Any:
        size = int.from_bytes(self._read(8), "little")
        return pickle.loads(self._read(size))

    def close(self) -> None:
        for fd in (self.read_fd, self.write_fd):
            if fd >= 0:
                os.close(fd)
        self.read_fd = self.write_fd = -1

    def _write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(self.write_fd, view):]

    def _read(self, size: int) -> bytes:
        chunks, left = [], size
        while left:
            chunk = os.read(self.read_fd, min(left, 1 << 22))
            if not chunk:
                raise EOFError("the other end is closed")
            chunks.append(chunk)
            left -= len(chunk)
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def fork(serve: Callable[[Channel], None]) -> tuple[int, Channel]:
    """Run `serve` in a forked child, which exits when it returns; the child's pid and the parent's end."""
    down_read, down_write = os.pipe()
    up_read, up_write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into the parent's code
        code = 1
        try:
            os.close(down_write)  # else the parent closing its end would never reach the child as an EOF
            os.close(up_read)
            serve(Channel(down_read, up_write))
            code = 0
        finally:
            os._exit(code)
    os.close(down_read)
    os.close(up_write)
    return pid, Channel(up_read, down_write)


def reap(pid: int, timeout: float = 10.0) -> None:
    """Wait for a child to end; kill it if it has not after `timeout` seconds."""
    deadline, pause = time.monotonic() + timeout, 0.0005
    while os.waitpid(pid, os.WNOHANG)[0] == 0:
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return
        time.sleep(pause)
        pause = min(pause * 2, 0.05)
