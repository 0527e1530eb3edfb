"""Settings: every option is an environment variable ``REPLAYVAULT_<NAME>``.

One pydantic-settings class; see the README's configuration table (a test checks they agree).
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings", "get_settings"]


class Settings(BaseSettings):
    """Runtime settings, read from ``REPLAYVAULT_*`` environment variables."""

    model_config = SettingsConfigDict(env_prefix="REPLAYVAULT_", extra="ignore")

    home: Path = Field(default=Path(".replayvault"), description="Data directory: key file, chunks, databases.")
    host: str = Field(default="127.0.0.1", description="Address `serve` binds to.")
    port: int = Field(default=8000, description="Port `serve` listens on.")
    allowed_hosts: str = Field(default="127.0.0.1,localhost",
                               description="Comma-separated Host names the server answers (DNS-rebinding guard); '*' for any.")
    max_batch_bytes: int = Field(default=5 * 1024 * 1024, description="Largest accepted ingest body after decompression, bytes.")
    max_batch_events: int = Field(default=10_000, description="Most rrweb events accepted in one ingest batch.")
    database_url: str | None = Field(default=None, description="SQLAlchemy URL of the control-plane database; default SQLite in the data directory.")
    chromium_path: Path = Field(default=Path("/usr/bin/chromium"), description="Chromium binary used for heatmap backdrops and the demo.")
    audit_origin: str = Field(default="replayvault.local/audit",
                              description="Origin line of signed audit checkpoints, also the signing key's name.")
    checkpoint_interval_s: int = Field(default=300, ge=0,
                                       description="`serve` signs an audit checkpoint this often (seconds) when the log grew; 0 turns it off.")
    retention_interval_s: int = Field(default=3600, ge=0,
                                      description="`serve` runs the retention sweep at start and then this often (seconds); 0 turns it off.")
    training_max_age_days: int = Field(default=365, ge=1,
                                       description="A compliance-training attestation older than this many days no longer allows reading recordings.")
    consent_token_ttl_s: int = Field(default=900, ge=60, le=86400,
                                     description="How long a consent token the collector issues stays valid, seconds.")
    access_grant_minutes: int = Field(default=60, ge=1, le=1440,
                                      description="How long a declared purpose for reading one recording stays valid, minutes.")
    backdrop_min_sessions: int = Field(default=3, ge=1,
                                       description="Heatmap backdrops show a page's text only where at least this many sessions showed the same text.")
    access_review_days: int = Field(default=90, ge=1, le=366,
                                    description="Access reviews are due this often (days after the last completed one; ISO/IEC 27001:2022 A 5.18).")
    cookie_secure: bool = Field(default=False,
                                description="Mark the login cookie Secure (set true when the dashboard is served over HTTPS).")
    webhook_url: str | None = Field(default=None,
                                    description="SIEM/GRC webhook that receives signed JSON Lines batches (https, or http to a loopback host); unset: no push.")
    webhook_secret_file: Path | None = Field(default=None,
                                             description="File holding the webhook's HMAC-SHA256 secret (at least 32 bytes; mode 0600 or stricter).")
    webhook_interval_s: int = Field(default=60, ge=0,
                                    description="`serve` pushes new entries to the webhook this often (seconds); 0 turns the loop off.")

    @cached_property
    def data_dir(self) -> Path:
        """Absolute data directory (created on first use by the callers that write to it)."""
        return self.home.expanduser().resolve()

    @property
    def host_names(self) -> list[str]:
        """:attr:`allowed_hosts` as a list."""
        return [h.strip() for h in self.allowed_hosts.split(",") if h.strip()]

    @property
    def db_url(self) -> str:
        """SQLAlchemy URL of the control-plane database."""
        return self.database_url or f"sqlite:///{self.data_dir / 'replayvault.sqlite3'}"

    @property
    def analytics_path(self) -> Path:
        """DuckDB file holding analytics facts."""
        return self.data_dir / "analytics.duckdb"

    @property
    def chunks_dir(self) -> Path:
        """Directory of encrypted chunk files."""
        return self.data_dir / "chunks"

    @property
    def audit_key_file(self) -> Path:
        """Ed25519 signing key of audit checkpoints (mode 0600)."""
        return self.data_dir / "keys" / "audit-ed25519.key"

    @property
    def key_file(self) -> Path:
        """Project key-encryption-key file (mode 0600)."""
        return self.data_dir / "keys" / "kek.json"


def get_settings() -> Settings:
    """Read settings from the environment (a new object each call, so tests can change env vars)."""
    return Settings()
