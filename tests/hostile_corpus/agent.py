"""Hostile inputs for the agent console's API (/agent/api): no token, forged tokens, hostile login
bodies, and hostile bodies, ids and query parameters from a signed-in agent and supervisor."""

from __future__ import annotations

import json
from typing import Any, List, Optional, Tuple

from tests.hostile_corpus.cases import ANSWER, JSON, REJECT, ROOT, Case, Secrets, dumps, nested_list


def agent(run: str, secrets: Secrets) -> List[Case]:
    """/agent/api: every route without a valid token, forged tokens, hostile login bodies, and hostile
    bodies, ids and query parameters from a signed-in agent and supervisor."""
    cases: List[Case] = []
    doc = json.loads((ROOT / "channels" / "static" / "agent" / "openapi.json").read_text(encoding="utf-8"))
    routes = [(m.upper(), path) for path, item in doc["paths"].items() for m in item if m in ("get", "post")]
    fill = {"{id}": "1", "{number}": "TS000000-AAAAAAAA"}

    def path_of(template: str) -> str:
        for key, value in fill.items():
            template = template.replace(key, value)
        return template

    def add(kind: str, name: str, method: str, path: str, body: Optional[bytes] = None, token: Optional[str] = None,
            headers: Tuple[Tuple[Any, Any], ...] = JSON, expect: str = REJECT) -> None:
        if token:
            headers = headers + (("Authorization", f"Bearer {token}"),)
        cases.append(Case("agent", kind, name, expect, method=method, path=path, body=body, headers=headers))

    for method, template in routes:
        if template in ("/login", "/openapi.json"):
            continue
        body = b"{}" if method == "POST" else None
        add("forged", f"no_token_{method}_{template}", method, path_of(template), body=body)
    forged_tokens = [
        ("empty", ""), ("random", "A" * 43), ("sql", "' OR '1'='1"), ("nul", "abc\x00def"), ("too_long", "t" * 300),
        ("header_bomb", "t" * 10_000), ("utf8_bytes", "令牌"), ("other_scheme", None),
    ]
    for name, token in forged_tokens:
        for path in ("/me", "/queue", "/sessions/1/transcript"):
            if token is None:
                headers = JSON + (("Authorization", "Basic YWRtaW46YWRtaW4="),)
            elif name == "utf8_bytes":
                headers = JSON + (("Authorization", ("Bearer " + token).encode()),)
            else:
                headers = JSON + (("Authorization", f"Bearer {token}"),)
            add("forged", f"token_{name}_{path}", "GET", path, headers=headers)
    add("forged", "supervisor_token_as_query", "GET", f"/me?token={secrets.supervisor_token}")
    # Login: refused before any password is checked (no failure is recorded) ...
    form = (("Content-Type", "application/x-www-form-urlencoded"),)
    for kind, name, body, headers in [
        ("invalid_json", "invalid_json", b"{", JSON), ("wrong_type", "list", b"[1]", JSON),
        ("nested_json", "nested", b'{"username":' + nested_list(50_000) + b"}", JSON),
        ("invalid_utf8", "invalid_utf8", b'{"username":"\xff","password":"x"}', JSON),
        ("wrong_type", "username_int", dumps({"username": 5, "password": "x"}), JSON),
        ("wrong_type", "password_list", dumps({"username": "a", "password": ["x"]}), JSON),
        ("empty", "password_empty", dumps({"username": "a", "password": ""}), JSON), ("empty", "empty_body", b"", JSON),
        ("huge", "username_100k", dumps({"username": "a" * 100_000, "password": "x"}), JSON),
        ("huge", "username_65", dumps({"username": "a" * 65, "password": "x"}), JSON),
        ("huge", "password_257", dumps({"username": "a", "password": "p" * 257}), JSON),
        ("http", "form_post", b"username=admin&password=admin", form),
        ("http", "text_plain", dumps({"username": "admin", "password": "x"}), (("Content-Type", "text/plain"),)),
        ("http", "no_content_type", dumps({"username": "admin", "password": "x"}), ()),
        ("unicode", "surrogate", b'{"username":"\\ud800","password":"\\udfff"}', JSON),
    ]:
        add(kind, f"login_{name}", "POST", "/login", body=body, headers=headers)
    # ... and four wrong passwords (each a failure the login throttle records; at most four, so the
    # shared stack's address stays far below its limit of 20 failures in 15 minutes).
    for name, username, password in [("sql", "admin' OR '1'='1", "' OR 1=1 --"), ("nul", "ad\x00min", "x\x00"),
                                     ("html", "<script>", "<img src=x>"), ("unknown", f"nobody-{run}", "Password-123")]:
        add("forged", f"login_wrong_{name}", "POST", "/login", body=dumps({"username": username, "password": password}))
    for method in ("PUT", "DELETE", "PATCH"):
        add("http", f"login_{method}", method, "/login", body=b"{}")
        add("http", f"me_{method}", method, "/me", token=secrets.agent_token)
    agent_token, supervisor = secrets.agent_token, secrets.supervisor_token
    # Bodies: every route that reads one, signed in as a supervisor (who may reach every check).
    post_routes = ["/sessions/999999999/messages", "/sessions/999999999/transfer", "/sessions/999999999/escalate",
                   "/sessions/999999999/reassign", "/tickets/TS000000-AAAAAAAA/resolve",
                   "/escalations/999999999/accept",
                   "/escalations/999999999/decline", "/incidents", "/incidents/INC-NOPE/update",
                   "/incidents/INC-NOPE/close",
                   "/incidents/INC-NOPE/link", "/incidents/INC-NOPE/unlink", "/privacy-requests/999999999/reject",
                   "/privacy-requests/999999999/execute"]
    bodies = [
        ("invalid_json", "invalid_json", b"{"), ("nested", "nested_json", b'{"text":' + nested_list(20_000) + b"}"),
        ("invalid_utf8", "invalid_utf8", b'{"text":"\xff\xfe"}'), ("list", "wrong_type", b"[1]"),
        ("wrong_types", "wrong_type", dumps({k: 1 for k in ("text", "to", "reason", "note", "handler", "resolution",
                                                             "ticket", "area", "eta", "notify")})),
        ("too_big", "huge", dumps({"text": "x" * 70_000})),
    ]
    for path in post_routes:
        for name, kind, body in bodies:
            add(kind, f"body_{name}_{path}", "POST", path, body=body, token=supervisor)
    for kind, name, text in [
        ("huge", "text_5001", "网" * 5001), ("empty", "text_empty", ""),
        ("zero_width_bidi", "text_zero_width", "\u200b"),
        ("html_script", "text_html", "<script>alert(1)</script>"),
        ("sql", "text_sql", "'; DROP TABLE handoff_messages; --"),
    ]:
        add(kind, f"message_{name}", "POST", "/sessions/999999999/messages", dumps({"text": text}), agent_token)
    for name, body in [
        ("eta_edge", {"eta": "9999-12-31T23:59:59-23:59"}), ("eta_min", {"eta": "0001-01-01T00:00:00+14:00"}),
        ("eta_naive", {"eta": "2030-01-01T00:00:00"}),
        ("eta_garbage", {"eta": "明天"}), ("eta_hours_nan", None), ("eta_hours_inf", None),
        ("eta_hours_negative", {"eta_hours": -1}),
        ("eta_hours_bool", {"eta_hours": True}), ("eta_hours_huge", {"eta_hours": 1e308}),
        ("area_huge", {"area": "区" * 65}),
        ("note_huge", {"note": "n" * 2001}), ("symptom_sql", {"symptom": "' OR 1=1"}),
    ]:
        raw = {"eta_hours_nan": b'{"eta_hours": NaN}', "eta_hours_inf": b'{"eta_hours": Infinity}'}.get(name)
        raw = raw or dumps(body)
        add("wrong_type", f"incident_{name}", "POST", "/incidents", body=raw, token=supervisor)
    add("wrong_type", "incident_update_notify_string", "POST", "/incidents/INC-NOPE/update", dumps({"notify": "yes"}),
        supervisor)
    # Ids and query parameters.
    for name, path in [
        ("session_negative", "/sessions/-1"), ("session_zero", "/sessions/0"),
        ("session_2_63", "/sessions/9223372036854775808"),
        ("session_10_30", "/sessions/" + "9" * 30), ("session_float", "/sessions/1.5"),
        ("session_sql", "/sessions/1%20OR%201=1"),
        ("session_traversal", "/sessions/..%2F..%2Fme"), ("transcript_huge", "/sessions/" + "9" * 30 + "/transcript"),
        ("incident_sql", "/incidents/%27%20OR%201%3D1--"), ("incident_huge", "/incidents/" + "X" * 3000),
        ("incident_nul", "/incidents/%00"), ("incident_bad_utf8", "/incidents/%ff%fe"),
        ("events_after_text", "/events?after=abc"), ("events_after_2_63", "/events?after=9223372036854775808"),
        ("events_after_negative", "/events?after=-2"), ("events_timeout_nan", "/events?after=1&timeout=nan"),
        ("events_timeout_inf", "/events?after=1&timeout=inf"),
        ("events_timeout_1e309", "/events?after=1&timeout=1e309"),
        ("sessions_scope", "/sessions?scope=%00"), ("sessions_scope_all", "/sessions?scope=all"),
        ("stats", "/stats"), ("delivery_failures", "/delivery-failures"), ("outbox", "/outbox"),
        ("access_log", "/access-log"),
        ("privacy_requests", "/privacy-requests"), ("incidents", "/incidents"),
    ]:
        add("path_query", f"agent_{name}", "GET", path, token=agent_token)
    for name, path in [
        ("access_log_limit_text", "/access-log?limit=abc"),
        ("privacy_status", "/privacy-requests?status=%3Cx%3E"), ("stats_dates", "/stats?from=9999-99-99&to=x"),
        ("stats_channel_nul", "/stats?channel=%00"), ("stats_reversed", "/stats?from=2026-01-02&to=2025-01-01"),
        ("stats_year_1", "/stats?from=0001-01-01&to=9999-12-31"),
        ("stats_csv_html", "/stats.csv?from=x&channel=%3Cscript%3E"),
        ("escalation_huge", "/escalations/" + "9" * 30 + "/accept"),
        ("escalation_decline_huge", "/escalations/" + "9" * 30 + "/decline"),
        ("privacy_huge", "/privacy-requests/" + "9" * 30 + "/execute"),
        ("privacy_reject_huge", "/privacy-requests/" + "9" * 30 + "/reject"),
        ("outbox_retry_huge", "/outbox/" + "9" * 30 + "/retry"), ("outbox_retry_zero", "/outbox/0/retry"),
        ("ticket_resolve_huge", "/tickets/" + "X" * 3000 + "/resolve"),
    ]:
        method = "POST" if path.endswith(("accept", "decline", "execute", "reject", "retry", "resolve")) else "GET"
        body = dumps({"handler": "x", "reason": "y", "note": "z"}) if method == "POST" else None
        add("path_query", f"supervisor_{name}", method, path, body=body, token=supervisor)
    # Clamped to 1..1000 rows: answered, not refused.
    add("path_query", "supervisor_access_log_limit_huge", "GET", "/access-log?limit=" + "9" * 30, token=supervisor,
        expect=ANSWER)
    for name, path in [("accept", "/sessions/999999999/accept"),
                       ("transfer_accept", "/sessions/999999999/transfer/accept"),
                       ("release", "/sessions/999999999/release"), ("close", "/sessions/999999999/close"),
                       ("accept_2_63", "/sessions/9223372036854775807/accept")]:
        add("path_query", f"agent_{name}", "POST", path, token=agent_token)
    return cases
