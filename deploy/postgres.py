"""PostgreSQL for the production profile on one machine: a cluster in a folder of ours, started
with the Debian package's binaries (run as the `postgres` user when we are root), with password
authentication on TCP. The store tests start their throwaway servers with it too (tests/postgres.py).
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import List, Optional


def _as_postgres_user(args: List[str]) -> List[str]:
    """PostgreSQL refuses to run as root: when we are root, run its tools as the `postgres` user."""
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


def postgres_binaries() -> Optional[Path]:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


class LocalPostgres:
    """A PostgreSQL cluster in a folder of ours, listening on loopback only.

    With a password, TCP connections must give it (scram-sha-256): any local user could otherwise
    connect as the superuser (review L10). The Unix socket stays trusted: it lives in our own folder,
    which only the postgres user can reach."""

    def __init__(self, directory: Path, port: int, fsync: bool = True, password: Optional[str] = None) -> None:
        binaries = postgres_binaries()
        if binaries is None:
            raise SystemExit("PostgreSQL server binaries not found: run scripts/system-deps.sh (as root)")
        self.bin = binaries
        self.dir = directory
        self.port = port
        self.fsync = fsync
        self.password = password

    @property
    def data(self) -> Path:
        return self.dir / "data"

    def _run(self, args: List[str]) -> None:
        done = subprocess.run(_as_postgres_user(args), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"{Path(args[0]).name} failed ({done.returncode}): {done.stderr.strip()[-2000:]}")

    def start(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
            reachable = subprocess.run(_as_postgres_user(["test", "-w", str(self.dir)])).returncode == 0
            if not reachable:
                raise SystemExit(f"the postgres system user cannot reach {self.dir} (a parent folder is private): "
                                 "set PROD_DIR to a folder it can reach, e.g. PROD_DIR=/var/tmp/intake-prod")
        if not (self.data / "PG_VERSION").exists():
            self._initdb()
        elif self.password and "trust" in self._host_rules():
            print(f"note: the PostgreSQL cluster in {self.data} was made without a password (trust); "
                  "remove that folder to have one made with password authentication", file=sys.stderr)
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c max_connections=300"
        if not self.fsync:
            options += " -c fsync=off -c synchronous_commit=off"
        self._run([str(self.bin / "pg_ctl"), "-D", str(self.data), "-o", options, "-w", "-t", "60",
                   "-l", str(self.dir / "server.log"), "start"])

    def _initdb(self) -> None:
        command = [str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "-E", "UTF8"]
        if not self.password:
            self._run(command + ["--auth=trust"])
            return
        secret = self.dir / "initdb-password"
        fd = os.open(secret, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(self.password)
        if os.geteuid() == 0:
            shutil.chown(secret, "postgres", "postgres")
        try:
            self._run(command + ["--auth-local=trust", "--auth-host=scram-sha-256", f"--pwfile={secret}"])
        finally:
            secret.unlink()

    def _host_rules(self) -> str:
        try:
            return "\n".join(line for line in (self.data / "pg_hba.conf").read_text().splitlines()
                             if line.startswith("host"))
        except OSError:
            return ""

    def url(self, database: str) -> str:
        login = f"postgres:{self.password}" if self.password else "postgres"
        return f"postgresql://{login}@127.0.0.1:{self.port}/{database}"

    def ensure_database(self, name: str) -> str:
        import psycopg2

        connection = psycopg2.connect(self.url("postgres"))
        connection.autocommit = True
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
                if cursor.fetchone() is None:
                    cursor.execute(f'CREATE DATABASE "{name}"')
        finally:
            connection.close()
        return self.url(name)

    def pid(self) -> Optional[int]:
        try:
            return int((self.data / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._run([str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"])
