"""Firebase Cloud Messaging, HTTP v1 API.

Authorisation is the OAuth2 service-account flow: a JWT (RS256, signed with the service
account's private key, ``scope`` firebase.messaging, ``aud`` the token URI) is exchanged at the
token URI (``grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer``) for an access token,
kept until shortly before it expires. ``POST {endpoint}/v1/projects/{project}/messages:send``
then sends ``{"message": {"token", "notification", "data"}}``; the answer's ``name`` is the
reference. 404 (UNREGISTERED) and 403 (SENDER_ID_MISMATCH) mean the token is gone; 401 gets
a fresh access token once; 429 and 5xx are retried.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Mapping
from typing import Any

import jwt

from refundflow.adapters.channels.http import check, json_body, post
from refundflow.services.notifications.ports import (
    Message,
    PermanentChannelError,
    RetryableChannelError,
)

SCOPE = "https://www.googleapis.com/auth/firebase.messaging"
GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"


class FcmChannel:
    def __init__(
        self,
        service_account: Mapping[str, Any],
        *,
        endpoint: str = "https://fcm.googleapis.com",
        token_url: str | None = None,
    ) -> None:
        try:
            self.project = str(service_account["project_id"])
            self.client_email = str(service_account["client_email"])
            self.private_key = str(service_account["private_key"])
        except KeyError as exc:
            raise ValueError(f"the FCM service account lacks {exc}") from None
        self.key_id = service_account.get("private_key_id")
        self.token_url = token_url or str(
            service_account.get("token_uri", "https://oauth2.googleapis.com/token")
        )
        self.endpoint = endpoint.rstrip("/")
        self._token: tuple[str, float] | None = None
        self._lock = threading.Lock()

    def _access_token(self, *, fresh: bool = False) -> str:
        with self._lock:
            now = time.time()
            if self._token and not fresh and self._token[1] > now + 60:
                return self._token[0]
            assertion = jwt.encode(
                {
                    "iss": self.client_email,
                    "scope": SCOPE,
                    "aud": self.token_url,
                    "iat": int(now),
                    "exp": int(now) + 3600,
                },
                self.private_key,
                algorithm="RS256",
                headers={"kid": self.key_id} if self.key_id else None,
            )
            response = post(self.token_url, data={"grant_type": GRANT, "assertion": assertion})
            check(response, "FCM token endpoint")
            reply = json_body(response, "FCM token endpoint")
            token = reply.get("access_token")
            if not isinstance(token, str):
                raise RetryableChannelError("the FCM token endpoint gave no access_token")
            expires_in = reply.get("expires_in", 3600)
            self._token = (token, now + float(expires_in))  # type: ignore[arg-type]
            return token

    def send(self, message: Message) -> str:
        body = json.dumps(
            {
                "message": {
                    "token": message.to,
                    "notification": {"title": message.subject, "body": message.short},
                    "data": {k: str(v) for k, v in message.data.items()},
                }
            },
            ensure_ascii=False,
        ).encode()
        url = f"{self.endpoint}/v1/projects/{self.project}/messages:send"
        for attempt in (1, 2):
            headers = {
                "Authorization": f"Bearer {self._access_token(fresh=attempt == 2)}",
                "Content-Type": "application/json; charset=utf-8",
            }
            response = post(url, content=body, headers=headers)
            if response.status_code != 401:
                break
        else:
            raise RetryableChannelError("FCM refused a fresh access token (401)")
        check(response, "FCM", gone=frozenset({403, 404}))
        name = json_body(response, "FCM").get("name")
        if not name:
            raise PermanentChannelError("FCM accepted the message but gave no name")
        return str(name)
