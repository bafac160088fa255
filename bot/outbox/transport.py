"""One push over HTTP: `http_post` sends a signed event to the backend within a deadline for the
whole exchange, refuses redirects, and says whether the backend took it (and why not).
"""

from __future__ import annotations

import http.client
import socket
import threading
import urllib.error
import urllib.request
from typing import Any, Callable, Dict, List, Tuple

Sender = Callable[[str, bytes, Dict[str, str], float], Tuple[bool, str]]


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect would turn the POST into a body-less GET whose 200 looks like a delivery: refuse."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: D102
        return None


class _Deadline:
    """Shuts the sockets of one push down when its time is up.

    urllib's timeout applies to each socket operation: a backend that answers one byte every few
    seconds never trips it, and would hold a dispatcher (and its leased events) for as long as it
    likes. Shutting the socket down wakes the blocked read at once, whatever it was waiting for."""

    def __init__(self, seconds: float) -> None:
        self._sockets: List[socket.socket] = []
        self._lock = threading.Lock()
        self.expired = False
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def __enter__(self) -> "_Deadline":
        self._timer.start()
        return self

    def __exit__(self, *_exc: Any) -> None:
        self._timer.cancel()

    def track(self, sock: socket.socket) -> socket.socket:
        with self._lock:
            self._sockets.append(sock)
            if self.expired:
                _shut(sock)
        return sock

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            for sock in self._sockets:
                _shut(sock)


def _shut(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


def _tracked(base: type, deadline: _Deadline) -> Callable[..., Any]:
    """An http.client connection class whose sockets `deadline` can shut down."""

    def connection(*args: Any, **kwargs: Any) -> Any:
        made = base(*args, **kwargs)
        made._create_connection = lambda *a, **k: deadline.track(socket.create_connection(*a, **k))
        return made

    return connection


class _HTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, deadline: _Deadline) -> None:
        super().__init__()
        self._deadline = deadline

    def http_open(self, req: urllib.request.Request) -> Any:
        return self.do_open(_tracked(http.client.HTTPConnection, self._deadline), req)


class _HTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, deadline: _Deadline) -> None:
        super().__init__()
        self._deadline = deadline

    def https_open(self, req: urllib.request.Request) -> Any:
        return self.do_open(_tracked(http.client.HTTPSConnection, self._deadline), req,
                            context=self._context, check_hostname=self._check_hostname)


# Answers that say "not now" rather than "never": they never make an event dead.
TRANSIENT_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})


def http_post(url: str, body: bytes, headers: Dict[str, str], timeout: float) -> Tuple[bool, str]:
    """POST; (True, "") on a 2xx answer, else (False, why). Redirects are failures. The whole push,
    connecting and reading the answer included, takes at most `timeout` seconds (and a little)."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    with _Deadline(timeout) as deadline:
        opener = urllib.request.build_opener(_NoRedirects, _HTTPHandler(deadline), _HTTPSHandler(deadline))
        try:
            with opener.open(request, timeout=timeout) as answer:
                answer.read()
                status = answer.status
        except urllib.error.HTTPError as error:
            return False, f"HTTP {error.code}"
        except (urllib.error.URLError, socket.timeout, TimeoutError, ConnectionError, OSError,
                http.client.HTTPException) as error:
            if deadline.expired:
                return False, f"deadline: no complete answer within {timeout:g} s"
            reason = getattr(error, "reason", error)
            return False, f"{error.__class__.__name__}: {reason}"[:255]
        if deadline.expired:
            return False, f"deadline: no complete answer within {timeout:g} s"
        return 200 <= status < 300, f"HTTP {status}"
