"""Staff accounts: slow password hashes, bearer tokens, expiry, presence and the login limit."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
import sqlalchemy as sa

from bot import cli
from bot.errors import Conflict, InvalidInput, RateLimited, Unauthenticated
from bot.staff import MAX_FAILURES_PER_PAIR, TOKEN_LIFETIME, Role, StaffService, hash_password, verify_password
from bot.storage.models import AgentRow, AgentTokenRow


@pytest.fixture
def staff(db, clock) -> StaffService:
    return StaffService(db, clock)


def test_passwords_are_salted_scrypt_hashes():
    first, second = hash_password("correct horse"), hash_password("correct horse")
    assert first.startswith("scrypt$") and first != second
    assert verify_password("correct horse", first) and not verify_password("wrong horse", first)
    assert not verify_password("x", "md5$abc")


def test_login_gives_a_token_that_authenticates_and_marks_online(staff, db):
    staff.add("wang", "小王", "s3cret-pass")
    token, expires, member = staff.login("wang", "s3cret-pass")
    assert member.online and member.role is Role.AGENT
    assert staff.authenticate(token).username == "wang"
    with db.transaction() as session:
        stored = session.execute(sa.select(AgentTokenRow.token_hash)).scalars().all()
        password_hash = session.execute(sa.select(AgentRow.password_hash)).scalar_one()
    assert token not in stored and "s3cret-pass" not in password_hash


def test_wrong_forged_and_expired_tokens_are_rejected(staff, clock):
    staff.add("wang", "小王", "s3cret-pass")
    with pytest.raises(Unauthenticated):
        staff.login("wang", "wrong-pass")
    with pytest.raises(Unauthenticated):
        staff.login("nobody", "s3cret-pass")
    token, _, _ = staff.login("wang", "s3cret-pass")
    for forged in (None, "", token + "x", "Bearer " + token, "a" * 1000):
        with pytest.raises(Unauthenticated):
            staff.authenticate(forged)
    clock.now += TOKEN_LIFETIME + timedelta(seconds=1)
    with pytest.raises(Unauthenticated):
        staff.authenticate(token)


def test_logout_revokes_the_token_and_goes_offline(staff):
    staff.add("wang", "小王", "s3cret-pass")
    token, _, _ = staff.login("wang", "s3cret-pass")
    staff.logout(token)
    with pytest.raises(Unauthenticated):
        staff.authenticate(token)
    assert not staff.get("wang").online and staff.online_count() == 0


def test_presence_lapses_without_requests(staff, clock):
    staff.add("wang", "小王", "s3cret-pass")
    staff.login("wang", "s3cret-pass")
    assert staff.is_online("wang")
    clock.now += timedelta(minutes=2)
    assert not staff.is_online("wang")


def test_login_is_rate_limited_per_account_and_address(staff, clock):
    staff.add("wang", "小王", "s3cret-pass")
    for _ in range(MAX_FAILURES_PER_PAIR):
        with pytest.raises(Unauthenticated):
            staff.login("wang", "guess", client="10.0.0.9")
    with pytest.raises(RateLimited) as limited:
        staff.login("wang", "s3cret-pass", client="10.0.0.9")  # even the right password
    assert 0 < limited.value.retry_after <= 15 * 60 + 1
    clock.now += timedelta(minutes=16)
    assert staff.login("wang", "s3cret-pass")[2].username == "wang"


def test_a_stranger_cannot_lock_an_account_and_the_lock_grows(staff, clock):
    """Issue 14, M4: failures lock one (account, address) pair, with a lock that doubles each time."""
    staff.add("admin", "管理员", "s3cret-pass")
    for _ in range(MAX_FAILURES_PER_PAIR):
        with pytest.raises(Unauthenticated):
            staff.login("admin", "guess", client="203.0.113.66")
    with pytest.raises(RateLimited) as first:
        staff.login("admin", "guess", client="203.0.113.66")
    assert staff.login("admin", "s3cret-pass", client="10.0.0.1")[2].username == "admin"  # not locked out
    clock.now += timedelta(minutes=16)
    with pytest.raises(Unauthenticated):
        staff.login("admin", "guess", client="203.0.113.66")
    with pytest.raises(RateLimited) as second:
        staff.login("admin", "guess", client="203.0.113.66")
    assert second.value.retry_after > first.value.retry_after + 10 * 60  # 30 minutes now, not 15


def test_weak_passwords_are_refused(staff):
    for weak in ("short", "onlyletters", "1234567890", "Password123"[:9], "password123"):
        with pytest.raises(InvalidInput):
            staff.add("wang", "小王", weak)
    staff.add("wang", "小王", "柳叶刀-2026-夏天")


def test_passwords_never_reach_the_logs(staff, caplog):
    caplog.set_level(logging.DEBUG)
    staff.add("wang", "小王", "s3cret-pass")
    with pytest.raises(Unauthenticated):
        staff.login("wang", "another-secret")
    staff.login("wang", "s3cret-pass")
    assert "s3cret-pass" not in caplog.text and "another-secret" not in caplog.text


def test_account_rules(staff):
    with pytest.raises(InvalidInput):
        staff.add("wang", "小王", "short")
    with pytest.raises(InvalidInput):
        staff.add("<script>", "x", "s3cret-pass")
    staff.add("wang", "小王", "s3cret-pass")
    with pytest.raises(Conflict):
        staff.add("wang", "另一个", "s3cret-pass")


def test_cli_adds_accounts_and_bootstraps_a_first_supervisor(db, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("DATABASE_URL", db.url)
    credentials = tmp_path / "admin.txt"
    assert cli.main(["bootstrap", "--credentials-file", str(credentials)]) == 0
    text = credentials.read_text()
    assert oct(credentials.stat().st_mode & 0o777) == "0o600"
    password = text.split("password: ")[1].strip()
    assert StaffService(db).login("admin", password)[2].role is Role.SUPERVISOR
    assert cli.main(["bootstrap", "--credentials-file", str(credentials)]) == 0  # no second admin
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO("agent-pass-1\n"))
    assert cli.main(["add-agent", "li", "--name", "小李", "--password-stdin"]) == 0
    assert StaffService(db).login("li", "agent-pass-1")[2].display_name == "小李"
    assert cli.main(["list-agents"]) == 0
    assert "agent-pass-1" not in capsys.readouterr().out


def test_the_admin_password_file_is_private_even_when_a_file_was_there(db, monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", db.url)
    credentials = tmp_path / "admin.txt"
    credentials.write_text("left from an earlier install\n")
    credentials.chmod(0o644)
    assert cli.main(["bootstrap", "--credentials-file", str(credentials)]) == 0
    assert "password: " in credentials.read_text()
    assert oct(credentials.stat().st_mode & 0o777) == "0o600"
    credentials.chmod(0o644)  # made readable later (copied, restored from a backup)
    assert cli.main(["bootstrap", "--credentials-file", str(credentials)]) == 0
    assert oct(credentials.stat().st_mode & 0o777) == "0o600"


def test_concurrent_guesses_cannot_pass_the_limit(staff):
    import threading
    from concurrent.futures import ThreadPoolExecutor

    staff.add("wang", "小王", "s3cret-pass")
    barrier = threading.Barrier(12)

    def guess(n):
        barrier.wait()
        try:
            staff.login("wang", f"guess-{n}")
        except RateLimited:
            return "limited"
        except Unauthenticated:
            return "checked"

    with ThreadPoolExecutor(max_workers=12) as pool:
        answers = list(pool.map(guess, range(12)))
    assert answers.count("checked") == MAX_FAILURES_PER_PAIR and answers.count("limited") == 12 - MAX_FAILURES_PER_PAIR
