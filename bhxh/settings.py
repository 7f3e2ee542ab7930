"""Project settings: one pydantic-settings class, environment prefix ``BHXH_``.

Values come from the environment (``BHXH_DATA_DIR=/srv/bhxh``) or an optional ``.env``
file in the working directory. Credentials never live here: they live in Prefect blocks.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings", "get_settings"]


class Settings(BaseSettings):
    """Paths, timeouts and poll intervals.

    Example:
        >>> Settings(data_dir=Path("/tmp/bhxh")).outbox_dir
        PosixPath('/tmp/bhxh/outbox')
    """

    model_config = SettingsConfigDict(
        env_prefix="BHXH_", env_file=".env", extra="ignore", frozen=True
    )

    data_dir: Path = Field(Path("var"), description="Root of everything written at run time.")
    inbox_dir_override: Path | None = Field(
        None, alias="BHXH_INBOX_DIR", description="Where dossiers wait (default data_dir/inbox)."
    )

    # The dossier store.
    store_url: SecretStr = Field(
        SecretStr(""),
        description="Where the dossier store lives: empty = the folder journal under "
        "data_dir/store (one machine, the embedded default); postgresql://user:password@"
        "host:5432/database = the PostgreSQL store, shared by workers on several machines "
        "(BHXH_STORE_URL; its password is never logged).",
    )

    # Waiting for the phone.
    poll_initial_seconds: float = Field(2.0, gt=0, description="First poll interval.")
    poll_max_seconds: float = Field(15.0, gt=0, description="Longest poll interval.")
    approval_window_seconds: int = Field(
        300, gt=0, description="Deadline assumed when the provider announces none."
    )
    pause_timeout_seconds: int = Field(
        3600, gt=0, description="How long a paused manual run waits for a person."
    )
    pause_poll_seconds: int = Field(
        5, ge=1, description="How often a paused run checks whether a person answered."
    )
    provider_callbacks: frozenset[str] = Field(
        frozenset(),
        description="Providers that call back when the signer answers (their callback goes "
        "to the receiver, `python -m receiver`), e.g. BHXH_PROVIDER_CALLBACKS='[\"misa\"]'. "
        "A wait on such a provider reads at the callback and polls only slowly, as a fallback.",
    )
    callback_poll_initial_seconds: float = Field(
        30.0, gt=0, description="First poll interval when a callback is expected."
    )
    callback_poll_max_seconds: float = Field(
        60.0, gt=0, description="Longest poll interval when a callback is expected."
    )
    scheduled_signing_attempts: int = Field(
        3, ge=1, description="Signing requests per round in a scheduled run before giving up."
    )

    # A month over a work pool (flows/_spread.py).
    monthly_spread_deployment: str = Field(
        "",
        description=(
            "The deployment monthly_submission starts one child run per unit on, e.g. "
            "sign_and_submit/manual, so that any worker of the pool takes any unit; empty: "
            "every unit inside the monthly run (one process)."
        ),
    )
    child_crash_retries: int = Field(
        2, ge=0, description="Times a unit's child run that crashed is scheduled again."
    )
    spread_poll_seconds: float = Field(
        5.0, gt=0, description="How often the monthly run reads its children's states."
    )

    # HTTP.
    http_timeout_seconds: float = Field(30.0, gt=0)
    provider_rate_limits: dict[str, float] = Field(
        default_factory=dict,
        description=(
            "Calls per second allowed to each provider account, by provider name, e.g. "
            '{"misa": 10, "vnpt": 10}: every worker of a pool keeps to it together (a Prefect '
            "global concurrency limit per account, named bhxh-rate-<provider>-<account>). "
            "Empty: no shared pace (the vendor documents state no limit; the choice is yours)."
        ),
    )
    ca_bundle: Path | None = Field(
        None, description="A CA bundle to trust instead of the system store (TLS stays on)."
    )

    # Hostile input limits.
    max_xml_bytes: int = Field(20 * 1024 * 1024, gt=0)
    max_xml_depth: int = Field(64, gt=0)
    max_pdf_bytes: int = Field(
        10 * 1024 * 1024,
        gt=0,
        description="Largest attachment (PDF or other) accepted. An envelope embeds it in "
        "base64 (4/3 larger) and the gateway takes envelopes up to 20 MiB, so 10 MiB leaves "
        "room for the declarations and a second attachment.",
    )

    # HR text.
    convert_legacy: bool = Field(
        False,
        description="Convert text typed in a legacy Vietnamese font encoding (TCVN3 / ABC, "
        "VNI-Windows) found in inbox declarations and HR files to Unicode, reporting every "
        "converted value, instead of refusing the dossier (BHXH_CONVERT_LEGACY=true).",
    )

    # Signed attachments.
    stamp_font: Path = Field(
        Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
        description="TrueType font with Vietnamese diacritics for the visible signature "
        "stamp (Debian package fonts-dejavu-core).",
    )

    # The period overview: warnings before they cost, and where its reports are written.
    reports_dir_override: Path | None = Field(
        None,
        alias="BHXH_REPORTS_DIR",
        description="Where the period overviews are written as CSV and .xlsx (default "
        "data_dir/reports, next to the outbox).",
    )
    certificate_warning_days: int = Field(
        30, ge=0, description="Warn when a unit's certificate expires within this many days."
    )
    deadline_warning_days: int = Field(
        7,
        ge=0,
        description="Warn when a period's contributions are due (the last day of the "
        "following month) within this many days and some dossiers are not accepted yet.",
    )
    change_pending_warning_days: int = Field(
        5,
        ge=0,
        description="Warn when a 05 change handed over this many days ago is still pending.",
    )

    @cached_property
    def pki_dir(self) -> Path:
        return self.data_dir / "pki"

    @cached_property
    def inbox_dir(self) -> Path:
        return self.inbox_dir_override or self.data_dir / "inbox"

    @cached_property
    def hr_dir(self) -> Path:
        """Where a firm drops a unit's HR files: ``hr/<unit code>/<MM-YYYY>/``."""
        return self.data_dir / "hr"

    @cached_property
    def outbox_dir(self) -> Path:
        return self.data_dir / "outbox"

    @cached_property
    def store_dir(self) -> Path:
        return self.data_dir / "store"

    @cached_property
    def reports_dir(self) -> Path:
        return self.reports_dir_override or self.data_dir / "reports"


def get_settings() -> Settings:
    """Settings as the environment says now (cheap; read at each call)."""
    return Settings()
