"""The batch endpoint: a phone's queued actions in one request, answered per item. Items run in
the order they happened (occurred_at, then the phone's seq), each in its own unit of work with its
own Idempotency-Key, so one refusal never rolls back another."""

from __future__ import annotations

import json
from datetime import datetime

from starlette.requests import Request
from starlette.responses import Response

from backend import errors
from backend.domain.actors import Principal, Role
from backend.services import mobile
from mobile_api import idempotent
from mobile_api import schemas as s
from mobile_api.body import read_model
from mobile_api.render import dump
from mobile_api.work_orders import action_request, json_text, performer

META = {"idempotency_key", "seq", "work_order_id", "action"}


def processing_order(items: list[s.BatchItem], now: datetime) -> list[int]:
    """Indexes of ``items`` sorted by when they happened, then by the phone's queue order."""
    return sorted(range(len(items)), key=lambda i: (items[i].occurred_at or now, items[i].seq, i))


@idempotent.mutating(Role.ENGINEER)
async def run_batch(request: Request, principal: Principal) -> Response:
    body = await read_model(request, s.BatchIn)
    policy = mobile.MobilePolicy.of(request.app.state.settings)
    prefix = request.scope.get("root_path", "")
    answers: dict[int, dict[str, object]] = {}
    for i in processing_order(body.items, request.app.state.clock.now()):
        item = body.items[i]
        path = f"{prefix}/work-orders/{item.work_order_id}/{item.action}"
        # The same fingerprint as the single-action request: a key may move between the two.
        fp = idempotent.body_fingerprint("POST", path, item, None, exclude=META)
        perform = performer(policy, principal, item.work_order_id,
                            action_request(item.action, item, item.idempotency_key, seq=item.seq))
        try:
            stored, replayed = await idempotent.run(request, principal, item.idempotency_key, fp, perform, path)
        except errors.Unauthenticated:
            # The session was revoked (checked in each item's transaction): the whole request is a
            # 401. Items before it were applied and stay so; the phone replays their keys after
            # logging in again and gets their stored answers.
            raise
        except errors.DomainError as exc:  # transient: nothing stored, the phone retries this item later
            stored, replayed = idempotent.refusal(exc), False
        answers[i] = {"idempotency_key": item.idempotency_key, "seq": item.seq, "work_order_id": item.work_order_id,
                      "action": item.action, "status": stored.status, "replayed": replayed,
                      "body": json.loads(stored.body)}
    return json_text(dump({"items": [answers[i] for i in range(len(body.items))]}))
