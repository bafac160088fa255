"""The web chat's pages (channels/webchat.py) as a browser sees them: what other sites may do with them."""

from __future__ import annotations

from channels import webchat
from channels.console.http import security_headers as console_headers


def policy(headers):
    return {name: value.strip() for name, _, value in (part.strip().partition(" ")
                                                        for part in headers["Content-Security-Policy"].split(";"))}


def test_the_chat_and_console_pages_cannot_be_framed_and_talk_only_to_their_own_origin():
    chat = webchat._security_headers("chat.example.com:8443")
    for headers in (chat, webchat._security_headers(), console_headers()):
        csp = policy(headers)
        # Framing would let another site lay a decoy over 删除我的个人信息 or the console (clickjacking).
        assert csp["frame-ancestors"] == "'none'" and headers["X-Frame-Options"] == "DENY"
    # The chat's socket: its own host only (named as well, for Safari before 16), never ws:/wss: to any host.
    assert policy(chat)["connect-src"] == "'self' ws://chat.example.com:8443 wss://chat.example.com:8443"
    assert policy(webchat._security_headers())["connect-src"] == "'self'"
    # A Host header cannot add directives or hosts of its own.
    assert policy(webchat._security_headers("evil.example; script-src *"))["connect-src"] == "'self'"
    assert policy(webchat._security_headers("a.example wss://evil.example"))["connect-src"] == "'self'"
