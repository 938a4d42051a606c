"""The pool's session handle (``_Child``) when two threads end the same session."""

from __future__ import annotations

import contextlib
import os
import socket
import threading

from fnreg.sandbox.pool import _Child


def test_ending_a_session_another_thread_closed_meanwhile_raises_nothing() -> None:
    """At exit the pool ends each session while a call's thread may be closing it: no EBADF traceback."""
    ours, supervisor = socket.socketpair()
    read_end, write_end = os.pipe()
    child = _Child([ours.detach(), write_end], output_chars=1000)
    outcome: dict[str, object] = {}

    def end() -> None:
        try:
            outcome["status"] = child.end(timeout=30)
        except Exception as exc:  # the bug: OSError [Errno 9] from settimeout on the closed socket
            outcome["error"] = exc

    ender = threading.Thread(target=end)
    ender.start()
    supervisor.settimeout(30)
    assert supervisor.recv(1) == b"K"  # the ender is now waiting for the exit report
    child._socket.close()  # what the call's thread does when it sees the session end
    with contextlib.suppress(OSError):  # gone already if the ender saw the close before reading
        supervisor.sendall(b"X")  # less than a frame header: an ender blocked in recv reads it, reads on
    ender.join(timeout=30)
    assert not ender.is_alive()
    assert outcome == {"status": {}} and not child.alive
    supervisor.close()
    os.close(read_end)
