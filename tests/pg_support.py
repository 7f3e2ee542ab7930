"""A throwaway PostgreSQL cluster for the tests of the PostgreSQL dossier store.

One cluster per test session (``pg_cluster``; Debian's ``postgresql`` through
``deployments.postgres.PostgresCluster``), and a fresh database per test that asks for one
(:func:`new_database`), or a fresh schema (:func:`new_schema`).
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import sql

from deployments.postgres import PostgresCluster, PostgresUnavailable

__all__ = ["libpq_url", "new_database", "new_schema", "pg_cluster"]

_counter = itertools.count()


def libpq_url(cluster: PostgresCluster, database: str | None = None) -> str:
    """The cluster's URL for psycopg (``postgresql://``; the cluster's ``url`` is asyncpg's)."""
    return (
        f"postgresql://{cluster.user}:{cluster.password}@127.0.0.1:{cluster.port}/"
        f"{database or cluster.database}"
    )


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PostgresCluster]:
    try:
        cluster = PostgresCluster.create()
    except PostgresUnavailable as exc:
        pytest.skip(f"no PostgreSQL server binaries: {exc}")
    with cluster:
        yield cluster


def new_database(cluster: PostgresCluster) -> str:
    """A new, empty database in the cluster; its URL."""
    name = f"bhxh_{os.getpid()}_{next(_counter)}"
    with psycopg.connect(libpq_url(cluster), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return libpq_url(cluster, name)


def new_schema() -> str:
    """A schema name no test used before in this session."""
    return f"t{os.getpid()}_{next(_counter)}"
