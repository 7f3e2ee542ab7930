"""A throwaway PostgreSQL cluster on 127.0.0.1 for a Prefect server (tests, trials).

Uses Debian's ``postgresql`` binaries (``/usr/lib/postgresql/<version>/bin``). PostgreSQL
refuses to run as root, so when this process is root the cluster belongs to the system
user ``postgres`` (created by the Debian package) and every server command runs through
``runuser``. The cluster lives in a fresh folder under the system temp dir, listens on
loopback only, needs a password (SCRAM) and is deleted by :meth:`PostgresCluster.stop`.
"""

from __future__ import annotations

import os
import pwd
import re
import secrets
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from deployments.processes import free_port

__all__ = ["PostgresCluster", "PostgresUnavailable", "find_postgres_bin"]


class PostgresUnavailable(RuntimeError):
    """The PostgreSQL server binaries (or a user to run them as) are missing."""


def _version_key(path: Path) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", path.parent.parent.name)) or (0,)


def find_postgres_bin() -> Path:
    """The folder holding ``initdb`` and ``pg_ctl`` (newest Debian version first)."""
    override = os.environ.get("BHXH_PG_BIN")
    if override:
        candidates = [Path(override) / "initdb"]
    else:
        candidates = sorted(
            Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=_version_key, reverse=True
        )
        found = shutil.which("initdb")
        if found:
            candidates.append(Path(found).resolve())
    for initdb in candidates:
        if initdb.is_file() and (initdb.parent / "pg_ctl").is_file():
            return initdb.parent
    raise PostgresUnavailable(
        "PostgreSQL server binaries (initdb, pg_ctl) not found: install Debian's postgresql "
        "package (`make install` does) or set BHXH_PG_BIN"
    )


@dataclass
class PostgresCluster:
    """A PostgreSQL cluster of its own: ``create()``, ``start()``, ``url``, ``stop()``.

    Example:
        >>> with PostgresCluster.create() as pg:  # doctest: +SKIP
        ...     print(pg.url)  # postgresql+asyncpg://prefect:...@127.0.0.1:PORT/prefect
    """

    root: Path
    bin_dir: Path
    port: int
    run_as: str | None
    user: str = "prefect"
    database: str = "prefect"
    password: str = field(default_factory=lambda: secrets.token_hex(16), repr=False)
    started: bool = False

    @classmethod
    def create(cls, *, port: int | None = None) -> PostgresCluster:
        """A new, initialised (not yet started) cluster in a fresh temp folder."""
        bin_dir = find_postgres_bin()
        run_as: str | None = None
        root = Path(tempfile.mkdtemp(prefix="bhxh-pg-"))
        if os.geteuid() == 0:
            try:
                account = pwd.getpwnam("postgres")
            except KeyError as exc:
                shutil.rmtree(root, ignore_errors=True)
                raise PostgresUnavailable(
                    "running as root and there is no `postgres` system user to run PostgreSQL "
                    "as (the Debian postgresql package creates it)"
                ) from exc
            run_as = account.pw_name
            os.chown(root, account.pw_uid, account.pw_gid)
        cluster = cls(root=root, bin_dir=bin_dir, port=port or free_port(), run_as=run_as)
        try:
            cluster._initdb()
        except BaseException:
            shutil.rmtree(root, ignore_errors=True)
            raise
        return cluster

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def log_path(self) -> Path:
        return self.root / "postgres.log"

    @property
    def url(self) -> str:
        """SQLAlchemy URL for ``PREFECT_SERVER_DATABASE_CONNECTION_URL`` (asyncpg)."""
        return (
            f"postgresql+asyncpg://{self.user}:{self.password}@127.0.0.1:{self.port}/"
            f"{self.database}"
        )

    def _server_cmd(self, *argv: str) -> list[str]:
        prefix = ["runuser", "-u", self.run_as, "--"] if self.run_as else []
        return [*prefix, *argv]

    def _run(self, argv: list[str], *, what: str, env: dict[str, str] | None = None) -> None:
        result = subprocess.run(
            argv,
            cwd=self.root,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"PostgreSQL {what} failed (exit {result.returncode}) in {self.root}:\n"
                f"{result.stdout}\n{result.stderr}"
            )

    def _initdb(self) -> None:
        pwfile = self.root / "pwfile"
        pwfile.write_text(self.password + "\n", encoding="utf-8")
        pwfile.chmod(0o600)
        if self.run_as:
            account = pwd.getpwnam(self.run_as)
            os.chown(pwfile, account.pw_uid, account.pw_gid)
        try:
            self._run(
                self._server_cmd(
                    str(self.bin_dir / "initdb"),
                    "-D",
                    str(self.data_dir),
                    "-U",
                    self.user,
                    f"--pwfile={pwfile}",
                    "--auth=scram-sha-256",
                    "-E",
                    "UTF8",
                    "--locale=C",
                    "--no-sync",
                ),
                what="initdb",
            )
        finally:
            pwfile.unlink(missing_ok=True)

    def start(self) -> PostgresCluster:
        """Start the server (loopback only, no fsync: throwaway) and create the database."""
        options = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} "
            f"-c unix_socket_directories={self.root} -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        self._run(
            self._server_cmd(
                str(self.bin_dir / "pg_ctl"),
                "-D",
                str(self.data_dir),
                "-l",
                str(self.log_path),
                "-o",
                options,
                "-w",
                "-t",
                "60",
                "start",
            ),
            what="start",
        )
        self.started = True
        env = {**os.environ, "PGPASSWORD": self.password}
        self._run(
            [
                str(self.bin_dir / "createdb"),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                self.user,
                self.database,
            ],
            what="createdb",
            env=env,
        )
        return self

    def stop(self) -> None:
        """Stop the server (fast shutdown) and delete the cluster."""
        try:
            if self.started and (self.data_dir / "postmaster.pid").exists():
                self._run(
                    self._server_cmd(
                        str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-m", "fast",
                        "-w", "stop",
                    ),
                    what="stop",
                )  # fmt: skip
            self.started = False
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> PostgresCluster:
        return self.start() if not self.started else self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
