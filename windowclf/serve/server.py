"""The service under uvicorn: a socket bound here, SIGTERM drains the requests in flight and returns.

:func:`serve` binds the socket itself (so port 0 picks a free port, and the caller learns which
before the first request), hands it to uvicorn, and returns when the server has stopped: on SIGTERM
(or SIGINT) uvicorn stops accepting connections, answers the requests in flight, closes idle
connections, and only then ends the app's lifespan (the batcher's worker). uvicorn re-raises the
signal it caught once it is done; here SIGTERM is a normal end (the function returns, the
command exits 0) and SIGINT is raised as KeyboardInterrupt, as Ctrl-C is everywhere else.
"""

from __future__ import annotations

import contextlib
import signal
import socket
import sys
import threading

import uvicorn

__all__ = ["bind", "serve"]

_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class _Server(uvicorn.Server):
    """uvicorn's server, with signals that end :func:`serve` instead of being raised again."""

    caught: int | None = None

    @contextlib.contextmanager
    def capture_signals(self):
        if threading.current_thread() is not threading.main_thread():
            yield
            return

        def caught(signum, frame):
            self.caught = signum
            self.handle_exit(signum, frame)

        previous = {sig: signal.signal(sig, caught) for sig in _SIGNALS}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host``:``port`` (port 0: a free one), IPv6 for an address with ':'.

    Raises OSError (the address in use, not an address of this machine, ...).
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP named, as getaddrinfo names it: asyncio sets TCP_NODELAY only on sockets that say
    # so, and without it a response written in two parts waits for the client's delayed ACK (40 ms)
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def serve(
    app,
    sock: socket.socket,
    *,
    access_log: bool = False,
    keep_alive: float = 5.0,
    drain_timeout: float = 30.0,
    max_connections: int | None = 1000,
) -> int | None:
    """Run ``app`` on the bound socket ``sock`` until SIGTERM or SIGINT; returns the signal caught.

    Parameters
    ----------
    app : ASGI application
    sock : socket.socket
        From :func:`bind`: listening already, so clients may connect (and wait) before this starts.
    access_log : bool
        Log one line per request (uvicorn's access log).
    keep_alive : float
        Seconds an idle connection is kept.
    drain_timeout : float
        Seconds the requests in flight get to finish after the signal.
    max_connections : int, optional
        Connections and requests at once beyond which uvicorn answers 503.

    Raises
    ------
    KeyboardInterrupt
        After the drain, when the signal was SIGINT.
    """
    config = uvicorn.Config(
        app,
        log_level="warning",
        access_log=access_log,
        timeout_keep_alive=int(keep_alive),
        timeout_graceful_shutdown=int(drain_timeout),
        limit_concurrency=max_connections,
        lifespan="on",
        server_header=False,
    )
    server = _Server(config)
    # The model scores in a thread while the event loop reads and answers requests: a shorter GIL
    # switch interval than the default 5 ms lets the loop in sooner, which shortens the latencies
    switch = sys.getswitchinterval()
    sys.setswitchinterval(min(switch, 0.001))
    try:
        server.run(sockets=[sock])
    finally:
        sys.setswitchinterval(switch)
    if server.caught == signal.SIGINT:
        raise KeyboardInterrupt
    return server.caught
