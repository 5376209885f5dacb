"""Adapters to the outside world's channels: shops that push orders in (signature checks
and payload mappings, one module per shop), and notification channels, each behind
``services.notifications.ports.NotificationChannel``:

- ``smtp.SmtpEmailChannel``: email over SMTP (STARTTLS or implicit TLS, AUTH), text + HTML;
- ``alibaba_sms.AlibabaSmsChannel``: Alibaba Cloud SMS ``SendSms`` (ACS3-HMAC-SHA256);
- ``tencent_sms.TencentSmsChannel``: Tencent Cloud SMS ``SendSms`` (TC3-HMAC-SHA256);
- ``webhooks.WebhookSmsChannel`` / ``webhooks.AppPushChannel``: signed HTTP webhooks to an
  SMS gateway of the merchant's choosing and to the merchant's app backend;
- ``fcm.FcmChannel``: Firebase Cloud Messaging HTTP v1 (service-account OAuth2 JWT flow);
- ``webpush.WebPushChannel``: Web Push with VAPID (``pywebpush``);
- ``staff.AppriseStaffChannel``: DingTalk, WeCom, Feishu, Slack… robots through ``apprise``.

Every base URL is configurable, so tests point them at local servers that speak the real
protocol and check the signatures.
"""
