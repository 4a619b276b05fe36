"""Settings, read from the environment (and the CLI's global options).

One class for the CLI, the local stack and the production API; `.env.example` lists every
variable a production deployment sets.
"""

from pathlib import Path
from typing import Annotated, Any, Literal

import platformdirs
from limits import parse
from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from api.errors import KnitterError


def default_home() -> Path:
    return Path(platformdirs.user_data_dir("knitter"))


class Settings(BaseSettings):
    # An empty variable (as .env.example leaves them) counts as unset.
    model_config = SettingsConfigDict(populate_by_name=True, extra="ignore", env_ignore_empty=True)

    environment: Literal["development", "test", "production"] = Field(
        default="development", validation_alias="ENVIRONMENT"
    )

    # The local stack.
    home: Path = Field(default_factory=default_home, validation_alias="KNITTER_HOME")
    """Where the local stack keeps its data (the embedded PostgreSQL among it)."""
    db_port: int | None = Field(default=None, validation_alias="KNITTER_DB_PORT", ge=1, le=65535)
    """Port of the embedded server; unset picks a free one."""
    model_dir: Path | None = Field(default=None, validation_alias="KNITTER_MODEL_DIR")
    """Where local models exported at first start are kept; unset: <KNITTER_HOME>/models."""
    local_model: str = Field(default="all-MiniLM-L6-v2", validation_alias="KNITTER_LOCAL_MODEL")
    """The local sentence-transformers model: a name or a path. The default ships offline."""

    @property
    def model_path(self) -> Path:
        return self.model_dir or self.home / "models"

    # The database.
    database_url: str | None = Field(default=None, validation_alias="DATABASE_URL")
    """Any PostgreSQL, a Supabase project included. Unset: the embedded server under home."""
    database_read_url: str | None = Field(default=None, validation_alias="DATABASE_READ_URL")
    """A read replica: searches and reads go there when set."""
    db_pool_min: int = Field(default=1, validation_alias="DB_POOL_MIN", ge=0)
    db_pool_max: int = Field(default=10, validation_alias="DB_POOL_MAX", ge=1)
    """Requests hold at most DB_POOL_MAX - 2 * IMPORT_CONCURRENCY - 2 of them at once."""
    statement_timeout_ms: int = Field(default=15_000, validation_alias="STATEMENT_TIMEOUT_MS")

    # Supabase: tokens are verified with the JWT secret (HS256) and/or the project's JWKS.
    supabase_url: str | None = Field(default=None, validation_alias="SUPABASE_URL")
    supabase_anon_key: SecretStr | None = Field(default=None, validation_alias="SUPABASE_ANON_KEY")
    supabase_service_role_key: SecretStr | None = Field(
        default=None, validation_alias="SUPABASE_SERVICE_ROLE_KEY"
    )
    supabase_secret_key: SecretStr | None = Field(
        default=None, validation_alias="SUPABASE_SECRET_KEY"
    )
    """A secret API key (sb_secret_…), Supabase's successor of the service-role key."""
    supabase_jwt_secret: SecretStr | None = Field(
        default=None, validation_alias="SUPABASE_JWT_SECRET"
    )
    supabase_jwks_url: str | None = Field(default=None, validation_alias="SUPABASE_JWKS_URL")
    """Default: <SUPABASE_URL>/auth/v1/.well-known/jwks.json when SUPABASE_URL is set."""

    def secret_api_keys(self) -> tuple[str, ...]:
        """The sb_secret_… keys set (either variable may hold one)."""
        keys = (self.supabase_secret_key, self.supabase_service_role_key)
        values = (k.get_secret_value() for k in keys if k is not None)
        return tuple(v for v in values if v.startswith("sb_secret_"))

    # Server-wide provider keys, used when a user has not stored their own.
    openai_api_key: SecretStr | None = Field(default=None, validation_alias="OPENAI_API_KEY")
    gemini_api_key: SecretStr | None = Field(default=None, validation_alias="GEMINI_API_KEY")

    # Encryption of users' keys: the current key and its version, and older keys to read
    # (and re-encrypt) what was written with them: "1:<base64>,2:<base64>".
    encryption_key: SecretStr | None = Field(default=None, validation_alias="ENCRYPTION_KEY")
    encryption_key_version: int = Field(default=1, validation_alias="ENCRYPTION_KEY_VERSION", ge=1)
    encryption_keys_previous: SecretStr | None = Field(
        default=None, validation_alias="ENCRYPTION_KEYS_PREVIOUS"
    )

    app_url: str | None = Field(default=None, validation_alias="APP_URL")
    """The web app's origin, for links back to passages (MCP results, context packs)."""

    redis_url: str | None = Field(default=None, validation_alias="REDIS_URL")
    sentry_dsn: SecretStr | None = Field(default=None, validation_alias="SENTRY_DSN")
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list, validation_alias="CORS_ORIGINS"
    )
    """Comma-separated origins allowed to call the API from a browser."""

    forwarded_allow_ips: str = Field(default="", validation_alias="FORWARDED_ALLOW_IPS")
    """Proxies whose X-Forwarded-For/-Proto are believed (comma-separated addresses or
    networks, "*" for any). Empty: none, so a client cannot pick its own address."""

    # Limits.
    rate_limit: str = Field(default="120/minute", validation_alias="RATE_LIMIT")
    search_rate_limit: str = Field(default="60/minute", validation_alias="SEARCH_RATE_LIMIT")
    mcp_rate_limit: str = Field(default="60/minute", validation_alias="MCP_RATE_LIMIT")
    """Tool calls per token (or per signed-in user) of the MCP server."""
    # The local gateway's sign-up and sign-in (GoTrue's sign_in_sign_ups limit, per
    # address) and, against password guessing, per email. The first also bounds the
    # access tokens /mcp refuses per address (each one a database look-up).
    auth_rate_limit: str = Field(default="30/5 minutes", validation_alias="AUTH_RATE_LIMIT")
    auth_email_rate_limit: str = Field(
        default="10/5 minutes", validation_alias="AUTH_EMAIL_RATE_LIMIT"
    )
    # Any request body but an upload's (JSON, MCP): read whole before any check, so bounded.
    max_request_bytes: int = Field(
        default=8 * 1024 * 1024, validation_alias="MAX_REQUEST_BYTES", ge=64 * 1024
    )
    max_upload_bytes: int = Field(default=100 * 1024 * 1024, validation_alias="MAX_UPLOAD_BYTES")
    guest_max_upload_bytes: int = Field(
        default=5 * 1024 * 1024, validation_alias="GUEST_MAX_UPLOAD_BYTES"
    )
    max_upload_files: int = Field(default=20, validation_alias="MAX_UPLOAD_FILES", ge=1)
    embedding_cache_ttl_seconds: int = Field(default=86_400, validation_alias="EMBEDDING_CACHE_TTL")

    import_concurrency: int = Field(default=2, validation_alias="IMPORT_CONCURRENCY", ge=1)
    """Import jobs run at once per process; more wait their turn (holding no thread and
    no connection)."""
    import_job_stale_seconds: float = Field(
        default=60.0, validation_alias="IMPORT_JOB_STALE_SECONDS", gt=0
    )
    """A running import job silent this long (no heartbeat) died with its server: it is
    marked interrupted."""

    # Embedding of queued passages: in a background thread of the API (the local stack),
    # or on demand through POST /v1/queue/drain (a Supabase Database Webhook's target).
    embed_worker: bool = Field(default=False, validation_alias="EMBED_WORKER")
    embed_worker_interval_seconds: float = Field(
        default=2.0, validation_alias="EMBED_WORKER_INTERVAL", gt=0
    )

    @property
    def jwks_url(self) -> str | None:
        if self.supabase_jwks_url:
            return self.supabase_jwks_url
        if self.supabase_url:
            return self.supabase_url.rstrip("/") + "/auth/v1/.well-known/jwks.json"
        return None

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value

    @field_validator(
        "rate_limit",
        "search_rate_limit",
        "mcp_rate_limit",
        "auth_rate_limit",
        "auth_email_rate_limit",
    )
    @classmethod
    def _is_a_rate_limit(cls, value: str) -> str:
        try:
            parse(value)
        except ValueError:
            raise ValueError("not a rate limit such as '60/minute' or '30/5 minutes'") from None
        return value


def load_settings(**overrides: Any) -> Settings:
    """Settings from the environment and `overrides`. A bad one is a KnitterError that
    names it and says what is wrong, without its value: it may be a secret."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}"
            for error in exc.errors(include_url=False, include_input=False)
        )
        raise KnitterError(f"bad setting: {problems}") from None
