"""A throwaway PostgreSQL server for the store tests: `deploy.local.LocalPostgres` (the production
profile's server) in a temporary folder on a free port, without fsync, removed afterwards."""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Optional

from deploy.local import LocalPostgres, free_port, postgres_binaries


class TemporaryPostgres:
    def __init__(self) -> None:
        self.dir: Optional[Path] = None
        self.server: Optional[LocalPostgres] = None

    @property
    def available(self) -> bool:
        if postgres_binaries() is None:
            return False
        return os.geteuid() != 0 or shutil.which("runuser") is not None

    def start(self) -> str:
        self.dir = Path(tempfile.mkdtemp(prefix="intake-pg-"))
        self.dir.chmod(0o755)  # the postgres system user runs the server when we are root
        self.server = LocalPostgres(self.dir / "pg", free_port(), fsync=False)
        self.server.start()
        return self.server.url("postgres")

    def new_database(self) -> str:
        assert self.server is not None
        return self.server.ensure_database(f"t_{uuid.uuid4().hex[:12]}")

    def stop(self) -> None:
        if self.server is not None:
            try:
                self.server.stop()
            finally:
                self.server = None
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None
