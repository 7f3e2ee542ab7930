"""Which dossier store a process uses, from the settings: :func:`open_store`."""

from __future__ import annotations

from bhxh.pipeline.folder import DossierStore
from bhxh.pipeline.store import DossierJournal
from bhxh.settings import Settings

__all__ = ["open_store", "store_name"]


def open_store(settings: Settings | None = None) -> DossierJournal:
    """The store the settings name: ``BHXH_STORE_URL`` (PostgreSQL) when set, else the
    folder journal under ``data_dir/store`` (the embedded default)."""
    settings = settings or Settings()
    url = settings.store_url.get_secret_value().strip()
    if url:
        # Imported here: the driver costs a second at start-up that the default never pays.
        from bhxh.pipeline.postgres import PostgresJournal

        return PostgresJournal(url)
    return DossierStore(settings.store_dir)


def store_name(settings: Settings | None = None) -> str:
    """The store in words a log line may carry (a URL's password masked)."""
    settings = settings or Settings()
    url = settings.store_url.get_secret_value().strip()
    if url:
        from bhxh.pipeline.postgres import mask_url

        return mask_url(url)
    return str(settings.store_dir)
