"""A reference receiver for the ticket-event push: verifies signatures, drops repeats, prints events.

    make backend-demo                      # listens on 127.0.0.1:8099, secret from BACKEND_SECRET
    python scripts/backend_demo.py --port 8099 --secret s3cret [--store events.jsonl]

Point the assistant at it with BACKEND_URL=http://127.0.0.1:8099/events and the same BACKEND_SECRET.
What a real backend must do, in order:
  1. check ``X-Intake-Timestamp`` is within 5 minutes and ``X-Intake-Signature`` is
     ``sha256=HMAC_SHA256(secret, "<timestamp>.<raw body>")`` (constant-time compare): 401 otherwise;
  2. treat ``X-Intake-Event-Id`` as an idempotency key: a repeat is answered 200 and not applied again;
  3. apply the event; events of one ticket arrive in order (``sequence`` grows per ticket);
  4. answer 2xx only once the event is stored: anything else makes the sender retry later.

With ``--store`` accepted events are appended to a JSON-lines file (fsync'd) and reloaded on start,
so repeats are recognised across restarts. ``--mode-file`` lets tests make it misbehave: the file
holds ``ok``, ``500`` (answer 500 without storing) or ``slow`` (store, then answer too late).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Dict, Optional, Set

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.outbox import EVENT_ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, verify  # noqa: E402


class Receiver:
    def __init__(self, secret: str, store: Optional[Path], mode_file: Optional[Path], quiet: bool) -> None:
        self.secret = secret
        self.store = store
        self.mode_file = mode_file
        self.quiet = quiet
        self.lock = threading.Lock()
        self.seen: Set[str] = set()
        self.last_sequence: Dict[str, int] = {}
        self.stats = {"accepted": 0, "duplicates": 0, "bad_signatures": 0, "out_of_order": 0, "refused": 0}
        if store and store.exists():
            for line in store.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    event = json.loads(line)
                    self.seen.add(event["event_id"])
                    self.last_sequence[event["ticket"]["number"]] = event["sequence"]

    def mode(self) -> str:
        if self.mode_file and self.mode_file.exists():
            return self.mode_file.read_text().strip() or "ok"
        return "ok"

    def handle(self, headers, body: bytes) -> int:
        if not verify(body, self.secret, headers.get(TIMESTAMP_HEADER, ""), headers.get(SIGNATURE_HEADER, "")):
            with self.lock:
                self.stats["bad_signatures"] += 1
            return 401
        mode = self.mode()
        if mode == "500":
            with self.lock:
                self.stats["refused"] += 1
            return 500
        event = json.loads(body)
        key = event["event_id"]  # from the signed body: the header alone is not signed
        if headers.get(EVENT_ID_HEADER, key) != key:
            return 400
        number, sequence = event["ticket"]["number"], event["sequence"]
        with self.lock:
            if key in self.seen:
                self.stats["duplicates"] += 1
                return 200
            if sequence <= self.last_sequence.get(number, -1):
                self.stats["out_of_order"] += 1
            self.last_sequence[number] = sequence
            self.seen.add(key)
            self.stats["accepted"] += 1
            if self.store:
                with self.store.open("a", encoding="utf-8") as out:
                    out.write(json.dumps(event, ensure_ascii=False) + "\n")
                    out.flush()
                    os.fsync(out.fileno())
        if not self.quiet:
            print(f"{event['occurred_at']}  {number}  #{sequence:<6} {event['kind']:<18} {event['actor']}", flush=True)
        if mode == "slow":
            time.sleep(3)  # stored, but the sender gives up waiting: it will retry, we drop the repeat
        return 200


def serve(receiver: Receiver, host: str, port: int) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if 0 < length <= 1_000_000 else b""
            try:
                status = receiver.handle(self.headers, body) if body else 400
            except (ValueError, KeyError, TypeError):
                status = 400
            self._answer(status, {"status": status})

        def do_GET(self) -> None:  # noqa: N802
            if self.path == "/stats":
                with receiver.lock:
                    self._answer(200, dict(receiver.stats))
            else:
                self._answer(404, {"error": "not found"})

        def _answer(self, status: int, document: dict) -> None:
            data = json.dumps(document).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the sender timed out and hung up

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    return server


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8099)
    parser.add_argument("--secret", default=os.environ.get("BACKEND_SECRET", ""))
    parser.add_argument("--store", type=Path)
    parser.add_argument("--mode-file", type=Path)
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args()
    if not args.secret:
        parser.error("a shared secret is required (--secret or BACKEND_SECRET)")
    receiver = Receiver(args.secret, args.store, args.mode_file, args.quiet)
    server = serve(receiver, args.host, args.port)
    print(f"receiving ticket events on http://{args.host}:{args.port}/events (stats: /stats)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
