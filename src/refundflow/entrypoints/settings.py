"""All settings, from environment variables prefixed ``REFUNDFLOW_`` (or a ``.env`` file)."""

from __future__ import annotations

from datetime import time
from decimal import Decimal
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from refundflow.domain.inspection import Grade, InspectionRules
from refundflow.services.config import ShopConfig

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
    public_url: str = Field("http://127.0.0.1:8000", description="where customers reach us")
    hotline: str = Field("400-000-0000", description="the customer service hotline")
    chat_url: str | None = Field(None, description="online chat link shown on the portal")
    media_dir: str = Field("./media", description="where customers' photos are kept")
    data_keys: str | None = Field(
        None,
        description="Fernet keys that encrypt bank accounts at rest, comma-separated: the "
        "first encrypts, all decrypt (rotate with `refundflow keys rotate`). Unset outside "
        "production: a key generated into data_dir on first run",
    )
    retention_days: int = Field(
        3 * 365,
        ge=30,
        description="personal data of customers whose requests are all closed and untouched "
        "for this many days is anonymised by `refundflow privacy retain`",
    )
    data_dir: str = Field("./data", description="where the generated development data key is kept")
    require_totp: bool = Field(False, description="every staff user needs a TOTP code")
    rate_limits: bool = Field(True, description="limit lookups, code entry, sign-in, webhooks")
    rate_limit_storage: str = Field(
        "memory://", description="where rate limits count: memory:// or redis://host:port"
    )
    finance_approval_above: Decimal = Field(
        Decimal("2000"), ge=0, description="refunds above this need a second, finance approval"
    )
    work_starts: time = Field(time(9, 0), description="business hours start (SLA deadlines)")
    work_ends: time = Field(time(18, 0), description="business hours end")
    grade_b_deduction_pct: Decimal = Field(
        Decimal("20"), ge=0, le=100, description="taken off a grade-B line of a no-fault return"
    )
    grade_c_deduction_pct: Decimal = Field(Decimal("0"), ge=0, le=100)
    worker_poll_seconds: float = Field(0.5, gt=0, description="idle wait between outbox polls")
    rollup_interval_seconds: float = Field(
        60.0,
        ge=0,
        description="how often the worker rolls up the dashboard's changed days (the "
        "dashboard reads days not yet rolled up from the live tables, so figures are exact "
        "either way; this only trades write work against read speed)",
    )
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

    # ------------------------------------------------------------ notifications
    return_address: str = Field("", description="where customers send returns (in messages)")
    smtp_url: str | None = Field(
        None, description="smtp://host:port (STARTTLS when offered) or smtps://user:pass@host:465"
    )
    smtp_ca_file: str | None = Field(None, description="a CA file to trust for the SMTP server")
    mail_from: str = Field("refundflow <noreply@refundflow.local>", description="email sender")
    sms_provider: Literal["none", "alibaba", "tencent", "webhook"] = Field(
        "none", description="who sends SMS"
    )
    sms_url: str | None = Field(
        None, description="the SMS API base URL (a default per provider) or the webhook URL"
    )
    sms_key_id: str | None = Field(None, description="Alibaba AccessKeyId / Tencent SecretId")
    sms_key_secret: str | None = Field(
        None, description="Alibaba AccessKeySecret / Tencent SecretKey"
    )
    sms_sign_name: str = Field("", description="the approved SMS signature (签名)")
    sms_app_id: str | None = Field(None, description="Tencent SmsSdkAppId")
    sms_region: str = Field("ap-guangzhou", description="Tencent region")
    sms_webhook_secret: str | None = Field(None, description="signs SMS webhook requests")
    app_push_url: str | None = Field(None, description="the merchant app backend's push webhook")
    app_push_secret: str | None = Field(None, description="signs app push webhook requests")
    fcm_service_account: str | None = Field(
        None, description="FCM service-account JSON, or the path of its file"
    )
    fcm_url: str = Field("https://fcm.googleapis.com", description="FCM API base URL")
    fcm_token_url: str | None = Field(None, description="OAuth2 token URL (default: the account's)")
    vapid_private_key: str | None = Field(None, description="Web Push VAPID key (PEM or base64url)")
    vapid_subject: str = Field("mailto:noreply@refundflow.local", description="VAPID contact")
    staff_notify_urls: str = Field(
        "",
        description="apprise URLs for staff alerts (dingtalk://, wecombot://, feishu://, "
        "slack://, json://…), separated by spaces or commas",
    )
    survey_valid_days: int = Field(30, ge=1, le=365, description="how long survey links work")
    survey_delay_minutes: int = Field(0, ge=0, le=10_080, description="survey after closing")
    notification_max_attempts: int = Field(12, ge=1, le=50)
    # ------------------------------------------------------------ payouts (issue 5)
    worker_lease_seconds: float = Field(
        60.0, gt=0, description="how long a worker owns a claimed outbox row / refund record"
    )
    worker_backoff_seconds: float = Field(
        1.0, gt=0, description="first retry delay; doubles per attempt, with ±20% jitter"
    )
    worker_backoff_cap_seconds: float = Field(3600.0, gt=0, description="longest retry delay")
    payout_max_unknown_attempts: int = Field(
        5, ge=1, le=100, description="unknown gateway outcomes before needs_reconciliation"
    )
    payout_allocation: Literal["order", "proportion"] = Field(
        "order", description="split tender: empty payments in order, or refund pro rata"
    )
    payout_method_order: str = Field(
        "store_credit,e_wallet,alipay,wechat_pay,stripe,card,bank_transfer,cash_on_delivery",
        description="which payment methods give back first",
    )
    payout_key_prefix: str = Field(
        "rf", pattern=r"^[a-z]{1,8}$", description="prefix of refund idempotency keys"
    )
    gateway_timeout_seconds: float = Field(10.0, gt=0, le=120)
    alipay_app_id: str | None = None
    alipay_private_key: str | None = Field(None, description="app private key: PEM or a path")
    alipay_public_key: str | None = Field(None, description="Alipay public key: PEM or a path")
    alipay_base_url: str = "https://openapi.alipay.com/gateway.do"
    wechatpay_mchid: str | None = None
    wechatpay_appid: str | None = None
    wechatpay_private_key: str | None = Field(None, description="merchant API key: PEM/path")
    wechatpay_cert_serial_no: str | None = None
    wechatpay_apiv3_key: str | None = None
    wechatpay_public_key: str | None = Field(None, description="platform public key: PEM/path")
    wechatpay_public_key_id: str | None = None
    wechatpay_base_url: str = "https://api.mch.weixin.qq.com"
    wechatpay_notify_url: str | None = None
    stripe_api_key: str | None = None
    stripe_webhook_secret: str | None = None
    stripe_base_url: str = "https://api.stripe.com"

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
        if self.environment == "production" and not self.data_keys:
            raise ValueError(
                "set REFUNDFLOW_DATA_KEYS in production (`refundflow keys generate` makes one)"
            )
        return self

    @model_validator(mode="after")
    def _sms_complete(self) -> Settings:
        needs = {
            "alibaba": ("sms_key_id", "sms_key_secret"),
            "tencent": ("sms_key_id", "sms_key_secret", "sms_app_id"),
            "webhook": ("sms_url", "sms_webhook_secret"),
        }.get(self.sms_provider, ())
        missing = [name for name in needs if not getattr(self, name)]
        if missing:
            names = ", ".join(f"REFUNDFLOW_{m.upper()}" for m in missing)
            raise ValueError(f"SMS through {self.sms_provider} needs {names}")
        if self.app_push_url and not self.app_push_secret:
            raise ValueError("set REFUNDFLOW_APP_PUSH_SECRET to sign app push webhooks")
        return self

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def shop_config(self) -> ShopConfig:
        return ShopConfig(
            finance_approval_above=self.finance_approval_above,
            inspection=InspectionRules(
                deductions={
                    Grade.A: Decimal(0),
                    Grade.B: self.grade_b_deduction_pct,
                    Grade.C: self.grade_c_deduction_pct,
                }
            ),
            work_starts=self.work_starts,
            work_ends=self.work_ends,
            secret=self.secret_key.encode(),
        )
