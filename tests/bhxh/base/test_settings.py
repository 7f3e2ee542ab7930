from __future__ import annotations

from pathlib import Path

import pytest

from bhxh.settings import Settings


def test_defaults_live_under_var() -> None:
    s = Settings(_env_file=None)  # type: ignore[call-arg]
    assert s.data_dir == Path("var")
    assert s.store_dir == Path("var/store")
    assert s.outbox_dir == Path("var/outbox")


def test_environment_prefix_bhxh(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("BHXH_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("BHXH_POLL_MAX_SECONDS", "7.5")
    s = Settings()
    assert s.pki_dir == tmp_path / "pki"
    assert s.poll_max_seconds == 7.5


def test_dotenv_file_is_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("BHXH_PAUSE_TIMEOUT_SECONDS=120\n")
    monkeypatch.chdir(tmp_path)
    assert Settings().pause_timeout_seconds == 120


def test_bad_value_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BHXH_POLL_INITIAL_SECONDS", "-1")
    with pytest.raises(ValueError, match="poll_initial_seconds"):
        Settings()
