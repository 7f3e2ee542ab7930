"""The PostgreSQL store: the backends' test kit, and what the database itself guarantees
(a repeated step refused, writers of one dossier serialised, no half step after a crash)."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import psycopg
import pytest
from pydantic import SecretStr

from bhxh.errors import StoreError
from bhxh.pipeline import (
    DossierJournal,
    DossierOutbox,
    DossierStore,
    OutboxConflict,
    Step,
    StoredFile,
    open_store,
    store_name,
)
from bhxh.pipeline.journal_kit import DossierJournalSuite
from bhxh.pipeline.postgres import (
    POOL_SIZE,
    SCHEMA_VERSION,
    PostgresJournal,
    _lock_key,
    mask_url,
)
from bhxh.settings import Settings
from deployments.postgres import PostgresCluster
from tests.pg_support import libpq_url, new_schema, pg_cluster  # noqa: F401

PROJECT = Path(__file__).resolve().parents[3]
UNIT, PERIOD = "TZ9876B", "01/2026"


def _file(content: bytes) -> tuple[StoredFile, str, bytes]:
    sha = hashlib.sha256(content).hexdigest()
    return (
        StoredFile("declaration", "D02-TS", "D02-TS-595.xml", sha),
        "source/D02-TS-595.xml",
        content,
    )


@pytest.fixture
def url(pg_cluster: PostgresCluster) -> str:  # noqa: F811
    return libpq_url(pg_cluster)


@pytest.fixture
def journal(url: str) -> PostgresJournal:
    return PostgresJournal(url, schema=new_schema())


def _sql(journal: PostgresJournal) -> psycopg.Connection:
    conn = psycopg.connect(journal.url, autocommit=True)
    conn.execute(f"SET search_path TO {journal.schema}")
    return conn


class TestPostgresJournal(DossierJournalSuite):
    @pytest.fixture(autouse=True)
    def _url(self, url: str) -> None:
        self.url = url

    def journal(self, tmp_path: Path) -> DossierJournal:
        return PostgresJournal(self.url, schema=new_schema())


# ------------------------------------------------------------------ a repeated step


def test_the_database_refuses_a_second_once_only_step(journal: PostgresJournal) -> None:
    rec = journal.create(UNIT, PERIOD, "600", "a", [_file(b"<a/>")])
    rec = journal.record(rec, Step.SUBMITTED, transaction_id="T1")
    with pytest.raises(StoreError, match="already has a 'submitted' step"):
        journal.record(rec, Step.SUBMITTED, transaction_id="T2")
    back = journal.get(UNIT, PERIOD, rec.id)
    assert [s.step for s in back.steps] == [Step.LOADED, Step.SUBMITTED]
    assert back.steps[-1].data == {"transaction_id": "T1"}


def test_steps_that_may_repeat_take_the_next_position(journal: PostgresJournal) -> None:
    rec = journal.create(UNIT, PERIOD, "600", "a", [_file(b"<a/>")])
    for step in (Step.PREPARED, Step.ROUND1_REQUESTED, Step.ROUND1_REQUESTED, Step.PREPARED,
                 Step.SUBMITTING, Step.SUBMITTING, Step.FAILED, Step.FAILED):  # fmt: skip
        rec = journal.record(rec, step)
    with _sql(journal) as conn:
        seqs = [r[0] for r in conn.execute("SELECT seq FROM bhxh_step ORDER BY seq")]
    assert seqs == list(range(9))
    assert len(journal.get(UNIT, PERIOD, rec.id).steps) == 9


def test_the_journal_rows_are_append_only_and_keyed_by_position(
    journal: PostgresJournal,
) -> None:
    rec = journal.create(UNIT, PERIOD, "600", "a", [_file(b"<a/>")])
    journal.record(rec, Step.PREPARED)
    with _sql(journal) as conn:
        pk = conn.execute("SELECT pk FROM bhxh_dossier").fetchone()[0]  # type: ignore[index]
        with pytest.raises(psycopg.errors.UniqueViolation):  # a second step at position 1
            conn.execute(
                "INSERT INTO bhxh_step (dossier, seq, step, at, data) "
                "VALUES (%s, 1, 'prepared', now(), '{}')",
                (pk,),
            )
        for statement in (
            "UPDATE bhxh_step SET data = '{}'",
            "DELETE FROM bhxh_step",
            "TRUNCATE bhxh_step CASCADE",
        ):
            with pytest.raises(psycopg.errors.RestrictViolation, match="append-only"):
                conn.execute(statement)
    assert [s.step for s in journal.get(UNIT, PERIOD, rec.id).steps] == [
        Step.LOADED,
        Step.PREPARED,
    ]


# ------------------------------------------------------------------ writers of one dossier


def _wait_for_lock_waiter(conn: psycopg.Connection, within: float = 30.0) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        row = conn.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
        ).fetchone()
        if row and row[0]:
            return
        time.sleep(0.02)
    raise AssertionError("the second writer never waited for the dossier's lock")


def test_a_writer_waits_for_the_dossiers_advisory_lock(journal: PostgresJournal) -> None:
    rec = journal.create(UNIT, PERIOD, "600", "a", [_file(b"<a/>")])
    done = threading.Event()

    def write() -> None:
        journal.record(rec, Step.PREPARED, by="second writer")
        done.set()

    with _sql(journal) as holder, _sql(journal) as watcher:
        with holder.transaction():
            holder.execute(
                "SELECT pg_advisory_xact_lock(%s)", (_lock_key(UNIT, "01-2026", rec.id),)
            )
            writer = threading.Thread(target=write)
            writer.start()
            _wait_for_lock_waiter(watcher)
            assert not done.is_set()
            assert [s.step for s in journal.get(UNIT, PERIOD, rec.id).steps] == [Step.LOADED]
        writer.join(60)
    assert done.is_set()
    assert journal.get(UNIT, PERIOD, rec.id).steps[-1].data == {"by": "second writer"}


def test_concurrent_writers_of_one_dossier_lose_no_step(journal: PostgresJournal) -> None:
    rec = journal.create(UNIT, PERIOD, "600", "a", [_file(b"<a/>")])
    writers, each = 4, 10

    def write(n: int) -> None:
        for i in range(each):
            journal.record(rec, Step.RECEIPT, writer=n, i=i)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    steps = journal.get(UNIT, PERIOD, rec.id).steps
    assert len(steps) == 1 + writers * each
    assert {(s.data["writer"], s.data["i"]) for s in steps[1:]} == {
        (n, i) for n in range(writers) for i in range(each)
    }


# ------------------------------------------------------------------ a crash mid-transaction

_CRASH = """
import os, signal, sys, hashlib
from bhxh.pipeline import Step, StoredFile
from bhxh.pipeline.postgres import PostgresJournal

url, schema, where = sys.argv[1:4]
journal = PostgresJournal(url, schema=schema)
content = b"<crash/>"
files = [(StoredFile("declaration", "D02-TS", "D02-TS-595.xml",
          hashlib.sha256(content).hexdigest()), "source/D02-TS-595.xml", content)]
if where == "record":
    rec = journal.create("TZ9876B", "01/2026", "600", "a", files)
original = PostgresJournal._insert_step

def killed_after_insert(self, *args, **kwargs):
    original(self, *args, **kwargs)
    os.kill(os.getpid(), signal.SIGKILL)  # the row is written, the transaction not committed

PostgresJournal._insert_step = killed_after_insert
if where == "record":
    journal.record(rec, Step.PREPARED, items=["x"])
else:
    journal.create("TZ9876B", "01/2026", "600", "a", files)
"""


@pytest.mark.parametrize("where", ["record", "create"])
def test_a_process_killed_inside_a_step_leaves_no_half_step(
    journal: PostgresJournal, where: str
) -> None:
    result = subprocess.run(
        [sys.executable, "-c", _CRASH, journal.url, journal.schema, where],
        cwd=PROJECT,
        env={**os.environ, "PYTHONPATH": str(PROJECT)},
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == -signal.SIGKILL, result.stderr.decode()[-2000:]
    records = journal.list(UNIT, PERIOD)
    with _sql(journal) as conn:
        files = conn.execute("SELECT count(*) FROM bhxh_file").fetchone()[0]  # type: ignore[index]
    if where == "create":  # the dossier, its files and its first step: all or nothing
        assert records == [] and files == 0
    else:
        assert [[s.step for s in r.steps] for r in records] == [[Step.LOADED]]
        rec = journal.record(records[0], Step.PREPARED, items=["y"])  # the step can be retried
        assert [s.step for s in rec.steps] == [Step.LOADED, Step.PREPARED]


# ------------------------------------------------------------------ durability and schema


def test_a_batch_commits_each_step_and_ends_with_a_durable_barrier(
    journal: PostgresJournal, monkeypatch: pytest.MonkeyPatch
) -> None:
    rec = journal.create(UNIT, PERIOD, "600", "a", [_file(b"<a/>")])
    sent: list[str] = []
    execute = psycopg.Connection.execute

    def spy(self: psycopg.Connection, query: Any, *args: Any, **kwargs: Any) -> Any:
        sent.append(query if isinstance(query, str) else repr(query))
        return execute(self, query, *args, **kwargs)

    monkeypatch.setattr(psycopg.Connection, "execute", spy)
    journal.record(rec, Step.PREPARED)  # alone: its commit waits for the disk
    assert not any("synchronous_commit" in q for q in sent)
    sent.clear()
    with journal.batch():
        with journal.batch():  # nested: no barrier of its own
            journal.record(rec, Step.ROUND1_REQUESTED)
        with _sql(journal) as other:  # committed: another worker sees it inside the batch
            assert other.execute("SELECT count(*) FROM bhxh_step").fetchone() == (3,)
        assert not any("pg_current_xact_id" in q for q in sent)
        journal.write_file(rec, "prepared/r1/D02-TS-595.xml", b"<t/>")
    assert sum("SET LOCAL synchronous_commit TO off" in q for q in sent) == 2
    assert [q for q in sent if "pg_current_xact_id" in q] == ["SELECT pg_current_xact_id()"]
    assert sent[-1] == "SELECT pg_current_xact_id()"  # the barrier ends the batch


def test_a_process_holds_at_most_the_pools_connections(
    journal: PostgresJournal, monkeypatch: pytest.MonkeyPatch
) -> None:
    rec = journal.create(UNIT, PERIOD, "600", "a", [_file(b"<a/>")])
    opened: list[int] = []
    connect = PostgresJournal._connect

    def counted(self: PostgresJournal) -> psycopg.Connection:
        opened.append(1)
        return connect(self)

    monkeypatch.setattr(PostgresJournal, "_connect", counted)
    threads = [
        threading.Thread(target=lambda: [journal.get(UNIT, PERIOD, rec.id) for _ in range(5)])
        for _ in range(3 * POOL_SIZE)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert len(opened) <= POOL_SIZE


def test_the_schema_is_created_once_and_versioned(url: str) -> None:
    schema = new_schema()
    first, second = PostgresJournal(url, schema=schema), PostgresJournal(url, schema=schema)
    rec = first.create(UNIT, PERIOD, "600", "a", [_file(b"<a/>")])
    assert second.get(UNIT, PERIOD, rec.id) == rec
    with _sql(first) as conn:
        assert conn.execute("SELECT component, version FROM bhxh_schema_version").fetchall() == [
            ("dossier-store", SCHEMA_VERSION)
        ]
        conn.execute("UPDATE bhxh_schema_version SET version = version + 1")
    newer = PostgresJournal(url, schema=new_schema())
    with _sql(newer) as conn:  # a database a newer version of the code set up
        conn.execute(f"CREATE SCHEMA {newer.schema}")
        conn.execute(
            "CREATE TABLE bhxh_schema_version (component text PRIMARY KEY, version int, "
            "applied_at timestamptz)"
        )
        conn.execute("INSERT INTO bhxh_schema_version VALUES ('dossier-store', 99, now())")
    with pytest.raises(StoreError, match="newer than this code"):
        newer.list(UNIT, PERIOD)


def test_files_are_rows_of_the_dossier(journal: PostgresJournal) -> None:
    rec = journal.create(UNIT, PERIOD, "600", "a", [_file(b"<a/>")])
    journal.write_file(rec, "prepared/r1/D02-TS-595.xml", b"<one/>")
    journal.write_file(rec, "prepared/r1/D02-TS-595.xml", b"<two/>")  # rewritten whole
    assert journal.read_file(rec, "prepared/r1/D02-TS-595.xml") == b"<two/>"
    for bad in ("../x", "/etc/passwd", "a/../b", ".hidden", "record.json"):
        with pytest.raises(StoreError):
            journal.write_file(rec, bad, b"x")
    other = PostgresJournal(journal.url, schema=journal.schema)
    assert other.read_file(rec, "source/D02-TS-595.xml") == b"<a/>"


def test_the_outbox_is_write_once_in_the_database(journal: PostgresJournal) -> None:
    assert isinstance(journal, DossierOutbox)
    assert not isinstance(DossierStore(Path("/nonexistent")), DossierOutbox)
    journal.write_outbox(UNIT, PERIOD, "600-012026-abc", {"BHXHDienTu.xml": b"<e/>"})
    journal.write_outbox(UNIT, PERIOD, "600-012026-abc", {"BHXHDienTu.xml": b"<e/>"})  # same
    with pytest.raises(OutboxConflict, match="600-012026-abc"):
        journal.write_outbox(
            UNIT, PERIOD, "600-012026-abc", {"D02-TS-595.xml": b"<d/>", "BHXHDienTu.xml": b"<x/>"}
        )
    assert journal.read_outbox(UNIT, PERIOD, "600-012026-abc") == {"BHXHDienTu.xml": b"<e/>"}


# ------------------------------------------------------------------ the setting, the secret


def test_the_setting_chooses_the_store_and_its_password_is_never_shown(
    url: str, tmp_path: Path
) -> None:
    folder = open_store(Settings(data_dir=tmp_path))
    assert isinstance(folder, DossierStore) and folder.root == tmp_path / "store"
    settings = Settings(data_dir=tmp_path, store_url=SecretStr(url))
    store = open_store(settings)
    assert isinstance(store, PostgresJournal)
    password = url.split(":")[2].split("@")[0]
    for shown in (store_name(settings), repr(store), repr(settings), mask_url(url)):
        assert password not in shown
    assert "***" in store_name(settings)
    assert mask_url("postgresql://db/bhxh?user=u&password=s3cret&sslmode=require") == (
        "postgresql://db/bhxh?user=u&password=***&sslmode=require"
    )
    wrong = PostgresJournal(url.replace(password, "not-the-password"), schema=new_schema())
    with pytest.raises(StoreError) as refused:
        wrong.list(UNIT, PERIOD)
    assert "not-the-password" not in str(refused.value)
    assert "cannot connect to the dossier store" in str(refused.value)
