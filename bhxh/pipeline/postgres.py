"""The PostgreSQL journal: the dossier store as rows, for workers on several machines that
share no folder (``BHXH_STORE_URL=postgresql://...``).

It is a :class:`~bhxh.pipeline.store.DossierJournal` with the folder journal's behaviour
(``bhxh.pipeline.folder``), and the same tests (``bhxh.pipeline.journal_kit``). The schema
(``SCHEMA_VERSION``; created on first use, idempotent, recorded in ``bhxh_schema_version``)::

    bhxh_dossier   one row per dossier: unit, period, id, procedure, name, the files it
                   was opened with (JSON); unique (unit_code, period_key, id)
    bhxh_step      the journal: one row per step, (dossier, seq) the primary key, seq the
                   step's position in the journal (0 = ``loaded``), as the folder journal
                   numbers its entries; append-only (a trigger refuses UPDATE, DELETE,
                   TRUNCATE); the steps that happen once per dossier (``ONCE_STEPS``) have
                   a unique index of their own, so the database refuses a second one
    bhxh_file      the dossier's files (sources, templates, signed files) as bytea,
                   primary key (dossier, relpath); rewritten whole like a file replaced
    bhxh_outbox    the signed files handed out (:meth:`PostgresJournal.write_outbox`),
                   write-once: other bytes under a name already there are refused

One transaction per step: ``record`` takes the dossier's advisory lock
(``pg_advisory_xact_lock``, where the folder journal takes its ``fcntl`` lock), reads the
journal's last position, appends the step and commits; a crash before the commit leaves
the journal as it was, never half a step. Steps that may repeat (``prepared`` with another
certificate, ``round1_requested`` written before and after the request, ``submitting``
before each attempt, ``receipt``, ``result``, ``failed``) only take the next position.

:meth:`PostgresJournal.batch` mirrors the folder journal's durability barrier: inside it
each step is still its own committed transaction (visible to every worker, kept if this
process is killed), but its commit does not wait for the server's WAL flush
(``SET LOCAL synchronous_commit = off`` in each of its transactions); the batch ends with
a transaction that does, which makes every earlier commit durable too (the server
flushes its WAL in order, whichever connection wrote it).

Connections (``psycopg`` 3, autocommit, explicit transactions) come from a small pool per
process, URL and schema (``POOL_SIZE``): a thread borrows one for one operation, so a run
of many units in threads holds at most that many. The URL's password never appears in a
message (:func:`mask_url`).
"""

from __future__ import annotations

import atexit
import builtins
import hashlib
import json
import re
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

from bhxh.errors import StoreError
from bhxh.pipeline.folder import JOURNAL, _safe_filename
from bhxh.pipeline.outbox import OutboxConflict, _file_name
from bhxh.pipeline.store import (
    DossierRecord,
    Step,
    StepRecord,
    StoredFile,
    _period_folder,
    _safe,
    dossier_id,
)

__all__ = ["ONCE_STEPS", "POOL_SIZE", "SCHEMA_VERSION", "PostgresJournal", "mask_url"]

SCHEMA_VERSION = 1
#: Connections a process keeps to one store at most (our choice: a unit's steps are short
#: transactions; eight threads writing at once is more than a worker's run needs).
POOL_SIZE = 8
#: The steps a dossier has at most once: the database refuses a second one. (The folder
#: journal's pipeline never writes them twice either: it reads the journal first.)
ONCE_STEPS: tuple[Step, ...] = (
    Step.LOADED,
    Step.DECLARATIONS_SIGNED,
    Step.SIGNED,
    Step.SUBMITTED,
    Step.EXPORTED,
)
_COMPONENT = "dossier-store"
_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def _literal_list(values: Sequence[str]) -> str:
    return ", ".join(f"'{v}'" for v in values)  # our own enum values: letters and '_'


# Version 1. The CHECK lists the steps of ``Step``: a new step, or any change below, is a
# new SCHEMA_VERSION with its own migration statements (CREATE ... IF NOT EXISTS does not
# alter a table that exists).
_DDL = f"""
CREATE TABLE IF NOT EXISTS bhxh_schema_version (
    component text PRIMARY KEY,
    version integer NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS bhxh_dossier (
    pk bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    unit_code text NOT NULL,
    period_key text NOT NULL,
    id text NOT NULL,
    period text NOT NULL,
    procedure text NOT NULL,
    name text NOT NULL,
    files json NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (unit_code, period_key, id)
);
CREATE TABLE IF NOT EXISTS bhxh_step (
    dossier bigint NOT NULL REFERENCES bhxh_dossier (pk),
    seq integer NOT NULL CHECK (seq >= 0),
    step text NOT NULL CHECK (step IN ({_literal_list([s.value for s in Step])})),
    at timestamptz NOT NULL,
    data json NOT NULL,
    PRIMARY KEY (dossier, seq)
);
CREATE UNIQUE INDEX IF NOT EXISTS bhxh_step_once ON bhxh_step (dossier, step)
    WHERE step IN ({_literal_list([s.value for s in ONCE_STEPS])});
CREATE OR REPLACE FUNCTION bhxh_step_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'bhxh_step is append-only: % refused', TG_OP
        USING ERRCODE = 'restrict_violation';
END
$$;
CREATE OR REPLACE TRIGGER bhxh_step_append_only BEFORE UPDATE OR DELETE ON bhxh_step
    FOR EACH ROW EXECUTE FUNCTION bhxh_step_append_only();
CREATE OR REPLACE TRIGGER bhxh_step_no_truncate BEFORE TRUNCATE ON bhxh_step
    FOR EACH STATEMENT EXECUTE FUNCTION bhxh_step_append_only();
CREATE TABLE IF NOT EXISTS bhxh_file (
    dossier bigint NOT NULL REFERENCES bhxh_dossier (pk),
    relpath text NOT NULL,
    content bytea NOT NULL,
    sha256 text NOT NULL,
    written_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (dossier, relpath)
);
CREATE TABLE IF NOT EXISTS bhxh_outbox (
    unit_code text NOT NULL,
    period_key text NOT NULL,
    dossier_id text NOT NULL,
    filename text NOT NULL,
    content bytea NOT NULL,
    sha256 text NOT NULL,
    written_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (unit_code, period_key, dossier_id, filename)
);
"""


def mask_url(url: str) -> str:
    """The URL with its password replaced by ``***`` (for messages and logs), in the
    user part and in a ``password=`` query parameter alike."""
    try:
        parts = urlsplit(url)
        netloc = parts.netloc
        if parts.password is not None:
            host = parts.hostname or ""
            host = f"[{host}]" if ":" in host else host
            port = f":{parts.port}" if parts.port else ""
            netloc = f"{parts.username or ''}:***@{host}{port}"
    except ValueError:
        return "<the store URL>"
    query = re.sub(r"(?i)(^|&)(password=)[^&]*", r"\1\2***", parts.query)
    return urlunsplit(parts._replace(netloc=netloc, query=query))


def _lock_key(*parts: str) -> int:
    """A signed 64-bit advisory lock key for ``parts`` (ours: prefixed ``bhxh``)."""
    digest = hashlib.sha256("\x1f".join(("bhxh", *parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _json(value: Any, what: str) -> str:
    try:
        return json.dumps(value, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise StoreError(f"{what} is not JSON: {exc}") from exc


_local = threading.local()  # whether this thread is inside a batch
_ready: set[tuple[str, str]] = set()
_ready_lock = threading.Lock()


class _Pool:
    """At most ``size`` connections to one store, lent for one operation each."""

    def __init__(self, size: int) -> None:
        self._idle: builtins.list[psycopg.Connection[Any]] = []
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(size)

    @contextmanager
    def borrow(
        self, connect: Callable[[], psycopg.Connection[Any]]
    ) -> Iterator[psycopg.Connection[Any]]:
        with self._slots:
            with self._lock:
                conn = self._idle.pop() if self._idle else None
            if conn is None or conn.closed or conn.broken:
                conn = connect()
            try:
                yield conn
            finally:
                idle = conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
                if conn.closed or conn.broken or not idle:
                    conn.close()
                else:
                    with self._lock:
                        self._idle.append(conn)

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()


_pools: dict[tuple[str, str], _Pool] = {}
_pools_lock = threading.Lock()


@atexit.register
def _close_pools() -> None:
    with _pools_lock:
        pools = builtins.list(_pools.values())
    for pool in pools:
        pool.close()


def _batching() -> bool:
    return bool(getattr(_local, "batching", False))


class PostgresJournal:
    """The dossier journal in a PostgreSQL database.

    Args:
        url: a libpq URL, ``postgresql://user:password@host:5432/database``.
        schema: the schema its tables live in (created if missing; default ``public``).

    Example:
        >>> store = PostgresJournal("postgresql://bhxh:...@db:5432/bhxh")  # doctest: +SKIP
        >>> rec = store.create("TZ1234A", "01/2026", "600", "bao-tang", files)
        >>> rec = store.record(rec, Step.PREPARED, items=[...])

    ``DossierRecord.path`` is a name (``postgresql:/<unit>/<MM-YYYY>/<id>``), not a folder:
    the files are read through :meth:`read_file`.
    """

    def __init__(self, url: str, *, schema: str = "public") -> None:
        if not url.startswith(("postgresql://", "postgres://")):
            raise StoreError(f"store URL {mask_url(url)} is not a postgresql:// URL")
        if not _SCHEMA_NAME.match(schema):
            raise StoreError(f"schema name {schema!r} is not a plain lower-case name")
        self.url = url
        self.schema = schema

    def __repr__(self) -> str:
        return f"PostgresJournal({mask_url(self.url)!r}, schema={self.schema!r})"

    # -------------------------------------------------------------- connections
    def _connect(self) -> psycopg.Connection[Any]:
        try:
            conn = psycopg.connect(self.url, autocommit=True, connect_timeout=30)
        except psycopg.Error as exc:
            reason = _first_line(exc)
            password = urlsplit(self.url).password
            if password:
                reason = reason.replace(password, "***")
            raise StoreError(
                f"cannot connect to the dossier store {mask_url(self.url)}: {reason}"
            ) from None
        try:
            with _translated(f"the dossier store {mask_url(self.url)}"):
                conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(self.schema)))
                self._ensure_schema(conn)
        except BaseException:
            conn.close()
            raise
        return conn

    @contextmanager
    def _conn(self) -> Iterator[psycopg.Connection[Any]]:
        """A connection of the pool, for one operation (never borrow two at once)."""
        key = (self.url, self.schema)
        with _pools_lock:
            pool = _pools.get(key)
            if pool is None:
                pool = _pools[key] = _Pool(POOL_SIZE)
        with pool.borrow(self._connect) as conn:
            yield conn

    @contextmanager
    def _transaction(self, conn: psycopg.Connection[Any]) -> Iterator[None]:
        """A transaction; inside a batch its commit does not wait for the disk."""
        with conn.transaction():
            if _batching():
                conn.execute("SET LOCAL synchronous_commit TO off")
            yield

    def _ensure_schema(self, conn: psycopg.Connection[Any]) -> None:
        key = (self.url, self.schema)
        with _ready_lock:
            if key in _ready:
                return
        with conn.transaction():
            # Workers starting together: one creates, the others wait and find it done.
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_lock_key("schema"),))
            conn.execute(
                sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(self.schema))
            )
            found = conn.execute("SELECT to_regclass('bhxh_schema_version') IS NOT NULL").fetchone()
            version = None
            if found and found[0]:
                row = conn.execute(
                    "SELECT version FROM bhxh_schema_version WHERE component = %s",
                    (_COMPONENT,),
                ).fetchone()
                version = row[0] if row else None
            if version is not None and version > SCHEMA_VERSION:
                raise StoreError(
                    f"the dossier store {mask_url(self.url)} has schema version {version}, "
                    f"newer than this code's {SCHEMA_VERSION}: upgrade prefect-bhxh"
                )
            if version != SCHEMA_VERSION:
                conn.execute(_DDL.encode())
                conn.execute(
                    "INSERT INTO bhxh_schema_version (component, version) VALUES (%s, %s) "
                    "ON CONFLICT (component) DO UPDATE SET version = EXCLUDED.version, "
                    "applied_at = now()",
                    (_COMPONENT, SCHEMA_VERSION),
                )
        with _ready_lock:
            _ready.add(key)

    # -------------------------------------------------------------- durability
    @contextmanager
    def batch(self) -> Iterator[None]:
        """Group the steps of many dossiers under one durability barrier (see the module)."""
        if _batching():
            yield  # nested: the outer batch ends with the barrier
            return
        _local.batching = True
        try:
            yield
        finally:
            _local.batching = False
            with (
                _translated("the dossier store"),
                self._conn() as conn,
                conn.transaction(),
            ):
                # An xid makes the commit write a record and wait for its flush, and with
                # it every commit before it.
                conn.execute("SELECT pg_current_xact_id()")

    # -------------------------------------------------------------- names
    def _names(self, unit_code: str, period: str, ident: str) -> tuple[str, str, str, Path]:
        unit = _safe(unit_code, "unit code")
        key = _period_folder(period)
        ident = _safe(ident, "dossier id")
        return unit, key, ident, Path("postgresql:/", unit, key, ident)

    @staticmethod
    def _relpath(rec: DossierRecord, relpath: str) -> str:
        parts = PurePosixPath(relpath).parts
        if (
            not parts
            or relpath.startswith("/")
            or "\\" in relpath
            or any(p in ("", ".", "..") or p.startswith(".") for p in parts)
            or relpath == JOURNAL
        ):
            raise StoreError(f"dossier {rec.id}: {relpath!r} is not a file path inside it")
        return "/".join(parts)

    # -------------------------------------------------------------- dossiers
    def create(
        self,
        unit_code: str,
        period: str,
        procedure: str,
        name: str,
        files: Sequence[tuple[StoredFile, str, bytes]],
    ) -> DossierRecord:
        """Create a dossier, its files and its ``loaded`` step in one transaction.

        The id comes from the unit, period, procedure and the files' hashes; if that dossier
        is already in the store, its record is returned unchanged.
        """
        stored = tuple(f for f, _, _ in files)
        ident = dossier_id(unit_code, period, procedure, (f.sha256 for f in stored))
        unit, key, ident, path = self._names(unit_code, period, ident)
        for f in stored:
            _safe_filename(f.filename, f"dossier {name!r}")
        rec = DossierRecord(ident, unit, period, procedure, name, path, stored)
        contents = [(self._relpath(rec, relpath), content) for _, relpath, content in files]
        files_json = _json(
            [
                {
                    "kind": f.kind,
                    "form": f.form,
                    "filename": f.filename,
                    "sha256": f.sha256,
                }
                for f in stored
            ],
            f"dossier {ident}: the file list",
        )
        with (
            _translated(f"dossier {ident}"),
            self._conn() as conn,
            self._transaction(conn),
        ):
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_lock_key(unit, key, ident),))
            existing = self._select(conn, unit, key, [ident])
            if existing:
                return existing[0]
            row = conn.execute(
                "INSERT INTO bhxh_dossier (unit_code, period_key, id, period, procedure, name,"
                " files) VALUES (%s, %s, %s, %s, %s, %s, %s::json) RETURNING pk",
                (unit, key, ident, period, procedure, name, files_json),
            ).fetchone()
            assert row is not None
            pk = row[0]
            with conn.cursor() as cur:
                cur.executemany(
                    "INSERT INTO bhxh_file (dossier, relpath, content, sha256) "
                    "VALUES (%s, %s, %s, %s)",
                    [(pk, rp, c, hashlib.sha256(c).hexdigest()) for rp, c in contents],
                )
            self._insert_step(conn, pk, 0, Step.LOADED, {"files": len(stored)}, ident)
            return self._select(conn, unit, key, [ident])[0]

    def get(self, unit_code: str, period: str, dossier_id: str) -> DossierRecord:
        """Read a dossier's record back (``StoreError`` when there is none)."""
        unit, key, ident, path = self._names(unit_code, period, dossier_id)
        with _translated(f"dossier {ident}"), self._conn() as conn:
            found = self._select(conn, unit, key, [ident])
        if not found:
            raise StoreError(f"no dossier at {path}")
        return found[0]

    def list(self, unit_code: str, period: str) -> list[DossierRecord]:
        """Every opened dossier of a unit for a period, oldest first."""
        unit = _safe(unit_code, "unit code")
        key = _period_folder(period)
        with _translated(f"unit {unit}"), self._conn() as conn:
            return _oldest_first(self._select(conn, unit, key, None))

    def list_unit(self, unit_code: str) -> builtins.list[DossierRecord]:
        """Every opened dossier of a unit, whatever its period, oldest first."""
        unit = _safe(unit_code, "unit code")
        with _translated(f"unit {unit}"), self._conn() as conn:
            return _oldest_first(self._select(conn, unit, None, None))

    def record(self, rec: DossierRecord, step: Step, **data: Any) -> DossierRecord:
        """Append a step in one transaction, under the dossier's advisory lock.

        The journal in the database is the truth: the step takes the position after the
        last one there now.

        Raises:
            StoreError: data not JSON-able, no such dossier, a second step of
                ``ONCE_STEPS`` (refused by the database), or the database failed (the
                journal is unchanged).
        """
        step = Step(step)
        unit, key, ident, _ = self._names(rec.unit_code, rec.period, rec.id)
        payload = _json(dict(data), f"dossier {ident}: step data")
        with (
            _translated(f"dossier {ident}"),
            self._conn() as conn,
            self._transaction(conn),
        ):
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_lock_key(unit, key, ident),))
            row = conn.execute(
                "SELECT d.pk, (SELECT max(s.seq) FROM bhxh_step s WHERE s.dossier = d.pk) "
                "FROM bhxh_dossier d WHERE d.unit_code = %s AND d.period_key = %s AND d.id = %s",
                (unit, key, ident),
            ).fetchone()
            if row is None:
                raise StoreError(f"no dossier at {rec.path}")
            pk, last = row
            self._insert_step(conn, pk, 0 if last is None else last + 1, step, payload, ident)
            return self._select(conn, unit, key, [ident])[0]

    def _insert_step(
        self,
        conn: psycopg.Connection[Any],
        pk: int,
        seq: int,
        step: Step,
        data: Mapping[str, Any] | str,
        ident: str,
    ) -> None:
        payload = data if isinstance(data, str) else _json(dict(data), f"dossier {ident}")
        try:
            conn.execute(
                "INSERT INTO bhxh_step (dossier, seq, step, at, data) "
                "VALUES (%s, %s, %s, %s, %s::json)",
                (pk, seq, step.value, datetime.now(UTC), payload),
            )
        except psycopg.errors.UniqueViolation:
            raise StoreError(
                f"dossier {ident}: the journal already has a {step.value!r} step "
                f"(refused by the database: it happens once per dossier)"
            ) from None

    def _select(
        self,
        conn: psycopg.Connection[Any],
        unit: str,
        key: str | None,
        ids: Sequence[str] | None,
    ) -> builtins.list[DossierRecord]:
        where = [sql.SQL("unit_code = %s")]
        params: builtins.list[Any] = [unit]
        if key is not None:
            where.append(sql.SQL("period_key = %s"))
            params.append(key)
        if ids is not None:
            where.append(sql.SQL("id = ANY(%s)"))
            params.append(builtins.list(ids))
        query = sql.SQL(
            "SELECT pk, period_key, id, period, procedure, name, files::text FROM bhxh_dossier "
            "WHERE {}"
        ).format(sql.SQL(" AND ").join(where))
        rows = conn.execute(query, params).fetchall()
        if not rows:
            return []
        steps: dict[int, builtins.list[StepRecord]] = {row[0]: [] for row in rows}
        for pk, step, at, data in conn.execute(
            "SELECT dossier, step, at, data::text FROM bhxh_step WHERE dossier = ANY(%s) "
            "ORDER BY dossier, seq",
            (builtins.list(steps),),
        ):
            steps[pk].append(StepRecord(Step(step), at.astimezone(UTC), json.loads(data)))
        return [
            DossierRecord(
                id=ident,
                unit_code=unit,
                period=period,
                procedure=procedure,
                name=name,
                path=Path("postgresql:/", unit, period_key, ident),
                files=tuple(StoredFile(**f) for f in json.loads(files)),
                steps=tuple(steps[pk]),
            )
            for pk, period_key, ident, period, procedure, name, files in rows
        ]

    # -------------------------------------------------------------- files
    def write_file(self, rec: DossierRecord, relpath: str, data: bytes) -> Path:
        """Write a file of the dossier (one statement: the old bytes or the new)."""
        rel = self._relpath(rec, relpath)
        unit, key, ident, path = self._names(rec.unit_code, rec.period, rec.id)
        with (
            _translated(f"dossier {ident}: cannot write {rel}"),
            self._conn() as conn,
            self._transaction(conn),
        ):
            cur = conn.execute(
                "INSERT INTO bhxh_file (dossier, relpath, content, sha256) "
                "SELECT pk, %s, %s, %s FROM bhxh_dossier "
                "WHERE unit_code = %s AND period_key = %s AND id = %s "
                "ON CONFLICT (dossier, relpath) DO UPDATE SET content = EXCLUDED.content, "
                "sha256 = EXCLUDED.sha256, written_at = now()",
                (rel, data, hashlib.sha256(data).hexdigest(), unit, key, ident),
            )
        if cur.rowcount != 1:
            raise StoreError(f"dossier {ident}: cannot write {rel}: no dossier at {path}")
        return path / rel

    def _file(self, rec: DossierRecord, relpath: str) -> bytes | None:
        rel = self._relpath(rec, relpath)
        unit, key, ident, _ = self._names(rec.unit_code, rec.period, rec.id)
        with _translated(f"dossier {ident}: cannot read {rel}"), self._conn() as conn:
            row = conn.execute(
                "SELECT f.content FROM bhxh_file f JOIN bhxh_dossier d ON d.pk = f.dossier "
                "WHERE d.unit_code = %s AND d.period_key = %s AND d.id = %s "
                "AND f.relpath = %s",
                (unit, key, ident, rel),
            ).fetchone()
        return None if row is None else bytes(row[0])

    def read_file(self, rec: DossierRecord, relpath: str) -> bytes:
        """Read a file of the dossier (``StoreError`` when missing)."""
        content = self._file(rec, relpath)
        if content is None:
            raise StoreError(f"dossier {rec.id}: cannot read {relpath}: no such file")
        return content

    def has_file(self, rec: DossierRecord, relpath: str) -> bool:
        return self._file(rec, relpath) is not None

    # -------------------------------------------------------------- outbox
    def write_outbox(
        self, unit_code: str, period: str, dossier_id: str, files: Mapping[str, bytes]
    ) -> None:
        """Keep a dossier's signed files in the outbox table, in one transaction.

        The same bytes again change nothing; other bytes under a name already there are
        refused (a signed file is final), and then nothing of ``files`` is written.

        Raises:
            OutboxConflict: a file is already there with other bytes.
        """
        unit, key, ident, _ = self._names(unit_code, period, dossier_id)
        rows = [(_file_name(n), d, hashlib.sha256(d).hexdigest()) for n, d in files.items()]
        with (
            _translated(f"dossier {ident}: the outbox"),
            self._conn() as conn,
            self._transaction(conn),
        ):
            for filename, content, sha in rows:
                cur = conn.execute(
                    "INSERT INTO bhxh_outbox (unit_code, period_key, dossier_id, filename,"
                    " content, sha256) VALUES (%s, %s, %s, %s, %s, %s)"
                    " ON CONFLICT DO NOTHING RETURNING 1",
                    (unit, key, ident, filename, content, sha),
                )
                if cur.fetchone() is not None:
                    continue
                found = conn.execute(
                    "SELECT sha256 FROM bhxh_outbox WHERE unit_code = %s AND period_key = %s "
                    "AND dossier_id = %s AND filename = %s",
                    (unit, key, ident, filename),
                ).fetchone()
                if found is None or found[0] != sha:
                    raise OutboxConflict(
                        f"unit {unit}, dossier {ident}: {filename} is already in the outbox "
                        "with other content; a signed file is final (use a new dossier id)"
                    )

    def read_outbox(self, unit_code: str, period: str, dossier_id: str) -> dict[str, bytes]:
        """A dossier's signed files in the outbox table, by file name."""
        unit, key, ident, _ = self._names(unit_code, period, dossier_id)
        with _translated(f"dossier {ident}: the outbox"), self._conn() as conn:
            rows = conn.execute(
                "SELECT filename, content FROM bhxh_outbox WHERE unit_code = %s "
                "AND period_key = %s AND dossier_id = %s ORDER BY filename",
                (unit, key, ident),
            ).fetchall()
        return {name: bytes(content) for name, content in rows}


def _oldest_first(
    records: builtins.list[DossierRecord],
) -> builtins.list[DossierRecord]:
    return sorted(records, key=lambda r: (r.steps[0].at if r.steps else datetime.min, r.id))


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


@contextmanager
def _translated(where: str) -> Iterator[None]:
    """A database error as a ``StoreError`` naming ``where`` (its first line only)."""
    try:
        yield
    except psycopg.Error as exc:
        raise StoreError(f"{where}: {_first_line(exc)}") from exc
