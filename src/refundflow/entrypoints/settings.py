"""All settings, from environment variables prefixed ``REFUNDFLOW_`` (or a ``.env`` file)."""

from __future__ import annotations

from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEVELOPMENT_SECRET = "development-only-secret-change-me"  # noqa: S105 - refused in production


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="REFUNDFLOW_", env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = Field(
        "development", description="'production' refuses development defaults such as the secret"
    )
    database_url: str = Field(
        "sqlite:///./refundflow.db",
        description="sqlite:///PATH (embedded) or postgresql://USER@HOST/DB (scaled out)",
    )
    secret_key: str = Field(DEVELOPMENT_SECRET, description="signs sessions and links")
    timezone: str = Field(
        "Asia/Shanghai", description="the shop's time zone for display and numbers"
    )
    busy_timeout_ms: int = Field(10_000, ge=100, description="SQLite: how long a writer waits")
    db_pool_size: int = Field(10, ge=1, le=200)
    token_cache_seconds: float = Field(
        30.0, ge=0, le=60, description="how long a token check is cached (revocation delay)"
    )
    minutes_per_review: int = Field(
        15, ge=1, le=600, description="staff minutes one manual review takes (simulations)"
    )
    shop_name: str = Field("refundflow", description="shown on the customer pages")
    worker_poll_seconds: float = Field(0.5, gt=0, description="idle wait between outbox polls")
    shopify_webhook_secret: str | None = Field(
        None, description="the Shopify app's client secret: signs its webhooks"
    )
    shopify_webhook_previous_secret: str | None = Field(
        None, description="the secret before a rotation (Shopify signs with it up to an hour)"
    )
    woocommerce_webhook_secret: str | None = Field(
        None, description="the secret set on the WooCommerce webhooks"
    )
    woocommerce_webhook_previous_secret: str | None = Field(
        None, description="the WooCommerce secret before a change, while deliveries drain"
    )
    webhook_timeout_seconds: float = Field(
        10.0, gt=0, le=60, description="how long an outgoing webhook waits for the receiver"
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r}; use an IANA name such as Asia/Shanghai"
            ) from None
        return value

    @model_validator(mode="after")
    def _no_default_secret_in_production(self) -> Settings:
        if self.environment == "production" and self.secret_key == DEVELOPMENT_SECRET:
            raise ValueError("set REFUNDFLOW_SECRET_KEY to a long random value in production")
        return self

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)
