"""Plain settings for the gateway adapters (the entry points build them from Settings)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


def pem(value: str) -> str:
    """A PEM given inline, or the path of a file that holds it."""
    text = value.strip()
    if text.startswith("-----BEGIN"):
        return text
    return Path(text).read_text()


@dataclass(frozen=True, slots=True)
class AlipayConfig:
    app_id: str
    private_key: str  # the app's RSA private key (PEM)
    alipay_public_key: str  # Alipay's public key, to check answers and notifications
    base_url: str = "https://openapi.alipay.com/gateway.do"
    timeout: float = 10.0


@dataclass(frozen=True, slots=True)
class WechatPayConfig:
    mchid: str
    appid: str
    private_key: str  # the merchant's API private key (PEM)
    cert_serial_no: str  # the merchant certificate's serial number
    apiv3_key: str  # 32 bytes: decrypts callbacks (AES-256-GCM)
    public_key: str  # WeChat Pay's platform public key (PEM), to check answers and callbacks
    public_key_id: str
    base_url: str = "https://api.mch.weixin.qq.com"
    notify_url: str | None = None
    timeout: float = 10.0


@dataclass(frozen=True, slots=True)
class StripeConfig:
    api_key: str
    webhook_secret: str | None = None
    base_url: str = "https://api.stripe.com"
    timeout: float = 10.0
