"""Settings, read from the environment (and the CLI's global options)."""

from pathlib import Path

import platformdirs
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_home() -> Path:
    return Path(platformdirs.user_data_dir("knitter"))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(populate_by_name=True, extra="ignore")

    home: Path = Field(default_factory=default_home, validation_alias="KNITTER_HOME")
    """Where the local stack keeps its data (the embedded PostgreSQL among it)."""

    database_url: str | None = Field(default=None, validation_alias="DATABASE_URL")
    """Any PostgreSQL, a Supabase project included. Unset: the embedded server under home."""

    db_port: int | None = Field(default=None, validation_alias="KNITTER_DB_PORT", ge=1, le=65535)
    """Port of the embedded server; unset picks a free one."""

    local_model: str = Field(default="all-MiniLM-L6-v2", validation_alias="KNITTER_LOCAL_MODEL")
    """The local sentence-transformers model: a name or a path. The default ships offline."""

    embed_batch_size: int = Field(default=64, validation_alias="KNITTER_EMBED_BATCH_SIZE", ge=1)
