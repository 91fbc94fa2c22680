"""The FCM adapter: a ``PushSender`` on the firebase-admin SDK (FCM HTTP v1, ``send_each_async``).
An explicitly initialised, named app (never the SDK's default app) from a service-account file;
each ``PushMessage`` becomes notification + data, Android priority and TTL, a collapse key per work
order, APNs headers; each SDK error becomes an outcome: token gone, retry (with Retry-After), or
failed. Retries belong to the push rows (backend.services.push), so the SDK's own are off."""

from __future__ import annotations

import asyncio
import email.utils
import logging
import uuid
import warnings
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import firebase_admin
from firebase_admin import credentials, exceptions, messaging

from backend.clock import Clock, SystemClock
from backend.domain.mobile.push import MAX_PAYLOAD_BYTES, Outcome, PushMessage, SendResult, payload_size

log = logging.getLogger(__name__)
BATCH = 500  # send_each_async's limit per call
INVALID_TOKEN = (messaging.UnregisteredError, messaging.SenderIdMismatchError)
RETRYABLE = (messaging.QuotaExceededError, exceptions.UnavailableError, exceptions.InternalError,
             exceptions.DeadlineExceededError, exceptions.UnknownError)


def fcm_message(m: PushMessage, now: datetime) -> messaging.Message:
    """Notification + data; Android: priority, TTL, collapse key; APNs: the same in headers."""
    expires = int(now.timestamp()) + m.ttl_s
    with warnings.catch_warnings():  # ``token`` is deprecated for ``fid`` (7.5); phones send tokens
        warnings.simplefilter("ignore", DeprecationWarning)
        return messaging.Message(
            token=m.token,
            notification=messaging.Notification(title=m.title, body=m.body),
            data=dict(m.data),
            android=messaging.AndroidConfig(
                priority="high" if m.high_priority else "normal", ttl=m.ttl_s, collapse_key=m.collapse_key,
                notification=messaging.AndroidNotification(tag=m.collapse_key)),
            apns=messaging.APNSConfig(
                headers={"apns-priority": "10" if m.high_priority else "5", "apns-expiration": str(expires),
                         "apns-collapse-id": m.collapse_key[:64], "apns-push-type": "alert"},
                payload=messaging.APNSPayload(aps=messaging.Aps(sound="default", thread_id=m.collapse_key))),
        )


def retry_after_s(exc: exceptions.FirebaseError, now: datetime) -> float | None:
    """Retry-After of the HTTP response, in seconds or as an HTTP date."""
    response: Any = getattr(exc, "http_response", None)
    value = response.headers.get("retry-after") if response is not None else None
    if not value:
        return None
    if value.strip().isdigit():
        return float(value.strip())
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when.astimezone(UTC) - now).total_seconds())


def classify(notification_id: int, exc: Exception | None, message_id: str | None, now: datetime) -> SendResult:
    if exc is None:
        return SendResult(notification_id, Outcome.SENT, message_id=message_id)
    code = getattr(exc, "code", None) or type(exc).__name__
    if isinstance(exc, INVALID_TOKEN):
        return SendResult(notification_id, Outcome.INVALID_TOKEN, error_code=_fcm_code(exc, code))
    if isinstance(exc, exceptions.InvalidArgumentError) and "token" in str(exc).lower():
        return SendResult(notification_id, Outcome.INVALID_TOKEN, error_code="INVALID_ARGUMENT")
    if isinstance(exc, RETRYABLE):
        return SendResult(notification_id, Outcome.RETRY, error_code=_fcm_code(exc, code),
                          retry_after_s=retry_after_s(exc, now) if isinstance(exc, exceptions.FirebaseError) else None)
    return SendResult(notification_id, Outcome.FAILED, error_code=_fcm_code(exc, code))


def _fcm_code(exc: Exception, fallback: str) -> str:
    names = {messaging.UnregisteredError: "UNREGISTERED", messaging.SenderIdMismatchError: "SENDER_ID_MISMATCH",
             messaging.QuotaExceededError: "QUOTA_EXCEEDED", messaging.ThirdPartyAuthError: "THIRD_PARTY_AUTH_ERROR"}
    for cls, name in names.items():
        if isinstance(exc, cls):
            return name
    return str(fallback).upper().replace("-", "_")


class FcmPushSender:
    """Sends through one named firebase-admin app. ``endpoint`` (tests) points the app's messaging
    client elsewhere than https://fcm.googleapis.com; ``credential`` replaces the service-account
    file (tests)."""

    def __init__(self, credentials_file: Path | None = None, *, credential: credentials.Base | None = None,
                 project_id: str | None = None, endpoint: str | None = None, clock: Clock | None = None,
                 http_timeout_s: float = 30.0, sdk_retries: bool = False) -> None:
        if credential is None:
            if credentials_file is None:
                raise ValueError("FCM needs a service-account file (FIELDLINE_FCM_CREDENTIALS_FILE)")
            credential = credentials.Certificate(str(credentials_file))
        options: dict[str, Any] = {"httpTimeout": http_timeout_s}
        if project_id:
            options["projectId"] = project_id
        self.clock = clock or SystemClock()
        self._replaced: Any = None
        self.app = firebase_admin.initialize_app(credential, options, name=f"fieldline-push-{uuid.uuid4().hex}")
        self._service = messaging._get_messaging_service(self.app)  # created now, so it can be configured
        if endpoint is not None:  # the SDK has no setting for this: FCM_URL is formatted in __init__
            self._service._fcm_url = endpoint.format(self.app.project_id)
        if not sdk_retries:
            from firebase_admin import _http_client, _retry

            self._replaced = self._service._async_client
            self._service._async_client = _http_client.HttpxAsyncClient(
                credential=self._service._credential, timeout=http_timeout_s,
                retry_config=_retry.HttpxRetry(max_retries=0))

    @property
    def project_id(self) -> str | None:
        return self.app.project_id

    async def send(self, messages: Sequence[PushMessage]) -> list[SendResult]:
        results: list[SendResult] = []
        now = self.clock.now()
        for start in range(0, len(messages), BATCH):
            chunk = list(messages[start:start + BATCH])
            sendable = [m for m in chunk if payload_size(m.title, m.body, m.data) <= MAX_PAYLOAD_BYTES]
            for m in chunk:
                if m not in sendable:
                    results.append(SendResult(m.notification_id, Outcome.FAILED, error_code="PAYLOAD_TOO_LARGE"))
            if not sendable:
                continue
            batch = await messaging.send_each_async([fcm_message(m, now) for m in sendable], app=self.app)
            for m, response in zip(sendable, batch.responses, strict=True):
                results.append(classify(m.notification_id, response.exception, response.message_id, now))
        return results

    async def aclose(self) -> None:
        # The SDK's own close() runs asyncio.run(), which a running loop refuses: close the HTTP
        # client here first, then delete the app off the loop.
        await self._service._async_client.aclose()
        if self._replaced is not None:
            await self._replaced.aclose()
        await asyncio.to_thread(firebase_admin.delete_app, self.app)
