"""Staff accounts (and the schema migration) from the command line.

    python -m bot.cli add-agent zhangsan --name 张三 [--role supervisor] [--password-stdin]
    python -m bot.cli set-password zhangsan [--password-stdin]
    python -m bot.cli deactivate zhangsan
    python -m bot.cli list-agents
    python -m bot.cli bootstrap [--credentials-file data/console-admin.txt]
    python -m bot.cli migrate
    python -m bot.cli privacy list [--status pending]
    python -m bot.cli privacy show ID
    python -m bot.cli privacy execute ID --actor NAME
    python -m bot.cli privacy reject ID --actor NAME --reason TEXT
    python -m bot.cli purge [--days N]

`privacy` lists and carries out customers' requests to see or delete their personal data (the same
as the console's supervisor action; the actor is recorded as ``cli:<name>``). `purge` deletes
transcripts and the bot's conversation log older than TRANSCRIPT_RETENTION_DAYS (default 180).

Passwords are read from the terminal without echo (or one line from stdin), never from arguments,
so they stay out of shell history and process lists. `bootstrap` creates a first supervisor with a
random password when there is no account at all, so a fresh `make run` has someone who can log in.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import secrets
import sys
from pathlib import Path
from typing import List, Optional

from bot.customers import Customer
from bot.errors import IntakeError
from bot.privacy import PrivacyRequests, Retention
from bot.staff import Role, StaffMember, StaffService
from bot.storage.conversations import ConversationLog
from bot.storage.database import Database


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Repeat password: "):
        raise SystemExit("passwords do not match")
    return first


def _service() -> StaffService:
    db = Database.from_env()
    db.migrate()
    return StaffService(db)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.cli", description="Agent console accounts")
    commands = parser.add_subparsers(dest="command", required=True)
    add = commands.add_parser("add-agent", help="create an agent or supervisor account")
    add.add_argument("username")
    add.add_argument("--name", default="", help="display name shown to customers (e.g. 工号1024 or 小王)")
    add.add_argument("--role", choices=[r.value for r in Role], default=Role.AGENT.value)
    add.add_argument("--password-stdin", action="store_true")
    reset = commands.add_parser("set-password", help="change a password (logs the account out everywhere)")
    reset.add_argument("username")
    reset.add_argument("--password-stdin", action="store_true")
    off = commands.add_parser("deactivate", help="disable an account")
    off.add_argument("username")
    commands.add_parser("list-agents", help="list active accounts")
    commands.add_parser("migrate", help="bring the ticket store's schema to the newest revision (idempotent)")
    boot = commands.add_parser("bootstrap", help="create a first supervisor when there are no accounts")
    boot.add_argument("--credentials-file", default="data/console-admin.txt")
    privacy = commands.add_parser("privacy", help="customers' requests to see or delete their personal data")
    actions = privacy.add_subparsers(dest="privacy_command", required=True)
    listing = actions.add_parser("list", help="the newest requests")
    listing.add_argument("--status", choices=["pending", "done", "rejected"])
    show = actions.add_parser("show", help="one request and what is held about the customer")
    show.add_argument("id", type=int)
    execute = actions.add_parser("execute", help="carry a request out (show the data, or anonymise it)")
    execute.add_argument("id", type=int)
    execute.add_argument("--actor", required=True, help="who decided (recorded as cli:<actor>)")
    reject = actions.add_parser("reject", help="refuse a request, with the reason told to the customer")
    reject.add_argument("id", type=int)
    reject.add_argument("--actor", required=True)
    reject.add_argument("--reason", required=True)
    purge = commands.add_parser("purge", help="delete transcripts older than the retention period")
    purge.add_argument("--days", type=int, help="override TRANSCRIPT_RETENTION_DAYS")
    args = parser.parse_args(argv)
    if args.command in ("privacy", "purge"):
        return _personal_data(args)

    try:
        staff = _service()
        if args.command == "add-agent":
            member = staff.add(args.username, args.name, _password(args.password_stdin), Role(args.role))
            print(f"added {member.role.value} {member.username} ({member.display_name})")
        elif args.command == "set-password":
            staff.set_password(args.username, _password(args.password_stdin))
            print(f"password of {args.username} changed")
        elif args.command == "deactivate":
            staff.deactivate(args.username)
            print(f"{args.username} deactivated")
        elif args.command == "list-agents":
            for member in staff.list():
                print(f"{member.username}\t{member.role.value}\t{member.display_name}\t{'online' if member.online else 'offline'}")
        elif args.command == "migrate":
            print("ticket store schema is up to date")  # _service() migrated it
        elif args.command == "bootstrap":
            path = Path(args.credentials_file)
            if staff.count() == 0:
                # 16 random URL-safe characters, with a digit and a letter guaranteed (the password policy).
                password = secrets.token_urlsafe(12) + str(secrets.randbelow(10)) + secrets.choice("abcdefghjkmnpqrstuvwxyz")
                staff.add("admin", "值班主管", password, Role.SUPERVISOR)
                path.parent.mkdir(parents=True, exist_ok=True)
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                # The mode given to open() only applies to a new file: a file left from an earlier
                # install keeps its mode, so it is set again before the password goes in.
                os.fchmod(fd, 0o600)
                with os.fdopen(fd, "w") as out:
                    out.write(f"username: admin\npassword: {password}\n")
                print(f"created the first console account 'admin'; its password is in {path}")
            elif path.exists():
                if path.stat().st_mode & 0o077:
                    path.chmod(0o600)  # readable by others (e.g. copied with cp): the password stays private
                print(f"console accounts exist; the first one's credentials are in {path}")
    except IntakeError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


def _personal_data(args: argparse.Namespace) -> int:
    db = Database.from_env()
    try:
        db.migrate()
        log = ConversationLog.from_env()
        if args.command == "purge":
            if args.days is not None and args.days < 1:
                raise SystemExit("--days must be 1 or more")
            counts = Retention(db, log, args.days).purge()
            print(json.dumps(counts, ensure_ascii=False))
            return 0
        requests = PrivacyRequests(db, log)
        if args.privacy_command == "list":
            supervisor = _cli_supervisor()
            for r in requests.list(supervisor, args.status):
                print(f"{r.id}\t{r.kind.value}\t{r.status.value}\t{r.requested_at:%Y-%m-%d %H:%M}Z\t{r.channel}\t{r.decided_by or '-'}")
        elif args.privacy_command == "show":
            request = requests.get(args.id)
            print(json.dumps({"id": request.id, "kind": request.kind.value, "status": request.status.value,
                              "verified_by": request.verified_by, "result": request.result}, ensure_ascii=False, indent=2))
            if request.status.value == "pending":
                summary = requests.summary(Customer(request.channel, request.channel_user_id))
                print(json.dumps({"held": summary}, ensure_ascii=False, indent=2))
        elif args.privacy_command == "execute":
            request = requests.carry_out(args.id, f"cli:{args.actor}")
            print(f"request {request.id} ({request.kind.value}) carried out: {json.dumps(request.result, ensure_ascii=False)}")
        elif args.privacy_command == "reject":
            request = requests.reject(args.id, f"cli:{args.actor}", args.reason)
            print(f"request {request.id} rejected")
    except IntakeError as error:
        print(f"error: {error.__class__.__name__}: {error}", file=sys.stderr)
        return 1
    finally:
        db.dispose()
    return 0


def _cli_supervisor():
    """Whoever runs the CLI has the database URL: they act with a supervisor's rights."""
    return StaffMember(username="cli", display_name="命令行", role=Role.SUPERVISOR, online=False)


if __name__ == "__main__":
    sys.exit(main())
