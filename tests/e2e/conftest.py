import uuid
from typing import List

import pytest

from bot.staff import Role, StaffService
from bot.storage.database import Database
from tests.e2e.servers import Stack


TELEGRAM_SECRET = "webhook-secret-" + uuid.uuid4().hex


@pytest.fixture(scope="session")
def fake_telegram():
    from tests.fake_telegram import FakeTelegram

    fake = FakeTelegram().start()
    yield fake
    fake.stop()


@pytest.fixture(scope="session")
def fake_wechat():
    from tests.fake_wechat import FakeWeChat

    fake = FakeWeChat().start()
    yield fake
    fake.stop()


BACKEND_SECRET = "backend-secret-" + uuid.uuid4().hex
BACKEND_API_KEY = "backend-key-" + uuid.uuid4().hex


@pytest.fixture(scope="session")
def backend(tmp_path_factory):
    """The reference receiver (scripts/backend_demo.py) as the operator's backend."""
    from tests.outbox_support import Backend

    receiver = Backend(tmp_path_factory.mktemp("backend"), secret=BACKEND_SECRET)
    receiver.start()
    yield receiver
    receiver.kill()


@pytest.fixture(scope="session")
def stack(trained_model, tmp_path_factory, fake_telegram, fake_wechat, backend):
    """The real action server and Rasa server, started once for the session; its Telegram channel
    talks to the fake Bot API server, its WeChat channel (safe mode) to the fake WeChat API, and it
    pushes ticket events to the reference receiver."""
    from tests import fake_wechat as wechat
    from tests.fake_telegram import TOKEN

    settings = {
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE": fake_telegram.base,
        "TELEGRAM_WEBHOOK_SECRET": TELEGRAM_SECRET,
        "TELEGRAM_WEBHOOK_URL": "http://127.0.0.1:9/webhooks/telegram/webhook",  # only ever sent to the fake
        "TELEGRAM_MODE": "webhook",
        "WECHAT_APP_ID": wechat.APP_ID,
        "WECHAT_APP_SECRET": wechat.APP_SECRET,
        "WECHAT_TOKEN": wechat.TOKEN,
        "WECHAT_AES_KEY": wechat.AES_KEY,
        "WECHAT_API_BASE": fake_wechat.base,
        "WECHAT_TEMPLATE_RESULT": wechat.TEMPLATE_ID,
        "BACKEND_URL": backend.url,
        "BACKEND_SECRET": BACKEND_SECRET,
        "BACKEND_API_KEY": BACKEND_API_KEY,
    }
    s = Stack(tmp_path_factory.mktemp("stack"), trained_model, settings).start()
    yield s
    s.stop()


class Console:
    """Staff accounts on the stack's store; every login is logged out again after the test,
    so agents never stay 'online' for the tests that follow."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.db = Database(stack.ticket_db)
        self.db.migrate()
        self.staff = StaffService(self.db)
        self.tokens: List[str] = []
        self.prefix = uuid.uuid4().hex[:6]

    def account(self, name: str, display_name: str = "", role: Role = Role.AGENT) -> str:
        username = f"{name}-{self.prefix}"
        self.staff.add(username, display_name or name, f"{username}-pw", role)
        return username

    def login(self, username: str) -> str:
        r = self.stack.api("POST", "/login", json={"username": username, "password": f"{username}-pw"})
        assert r.status_code == 200, r.text
        token = r.json()["token"]
        self.tokens.append(token)
        return token

    def sign_in(self, page, username: str) -> str:
        """Log `username` in through the console page's form; the page's token is logged out after
        the test like every other (an agent left online would change routing for later tests)."""
        page.goto(f"{self.stack.url}/agent/")
        page.fill("#username", username)
        page.fill("#password", f"{username}-pw")
        page.click("#login-submit")
        page.wait_for_selector("#app:not([hidden])")
        token = page.evaluate("localStorage.getItem('agent.token')")
        self.tokens.append(token)
        return token

    def logout_all(self) -> None:
        for token in self.tokens:
            self.stack.api("POST", "/logout", token)
        self.tokens = []
        self.db.dispose()


@pytest.fixture
def console(stack):
    c = Console(stack)
    yield c
    c.logout_all()


@pytest.fixture
def browser():
    """A headless Debian Chromium driven by Playwright (never a downloaded browser)."""
    from playwright.sync_api import sync_playwright

    from tests.e2e.test_browser import ARGS, CHROMIUM

    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield instance
        instance.close()


@pytest.fixture
def chat(stack):
    """One new customer talking to the stack (tests/e2e/test_dialogue.py: `Chat`)."""
    from tests.e2e.test_dialogue import Chat

    return Chat(stack)
