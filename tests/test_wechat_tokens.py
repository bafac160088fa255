"""The access token is shared by processes: two separate Python processes on one database, racing
for a token from the fake WeChat API, fetch it once; after WeChat refuses it (40001) in both, it is
refreshed once again, not once per process (each fetch would invalidate the other's token)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from bot.storage.database import Database
from bot.wechat import AccessTokens
from tests import fake_wechat as wx

ROOT = Path(__file__).resolve().parent.parent

WORKER = """
import json, sys
from bot.storage.database import Database
from bot.wechat import AccessTokens
from channels.wechat.api import fetch_token
url, base, stale = sys.argv[1], sys.argv[2], sys.argv[3]
tokens = AccessTokens(Database(url), "{app_id}")
print("ready", flush=True)
sys.stdin.readline()  # both processes go at once
if stale:
    tokens.invalidate(stale)  # WeChat answered 40001 to this process's call
print(json.dumps(tokens.current(lambda: fetch_token(base, "{app_id}", "{secret}"))))
""".format(app_id=wx.APP_ID, secret=wx.APP_SECRET)


def race(url: str, base: str, stale: str = "") -> list:
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, url, base, stale], cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    for worker in workers:
        assert worker.stdout.readline().strip() == "ready"
    for worker in workers:
        worker.stdin.write("go\n")
        worker.stdin.flush()
    return [json.loads(worker.communicate(timeout=60)[0]) for worker in workers]


def test_two_processes_share_one_token_and_refresh_it_once(tmp_path):
    url = f"sqlite:///{tmp_path / 'tokens.db'}"
    db = Database(url)
    db.migrate()
    fake = wx.FakeWeChat().start()
    fake.token_delay = 0.5  # the second process arrives while the first is fetching
    try:
        first = race(url, fake.base)
        assert first[0] == first[1] == fake.valid_token
        assert len(fake.recorded("/cgi-bin/token")) == 1
        second = race(url, fake.base, stale=first[0])
        assert second[0] == second[1] == fake.valid_token != first[0]
        assert len(fake.recorded("/cgi-bin/token")) == 2
        assert AccessTokens(db, wx.APP_ID).fetches() == 2
    finally:
        fake.stop()
        db.dispose()
