"""``/api/v2.0/subscriptions``: create (with handshake), list, read, renew, delete."""

from __future__ import annotations

from isthmus.protocols.odata.envelope import entity_body
from isthmus.sandbox.business_central.messages import ApiError, ApiRequest, ApiResponse
from isthmus.sandbox.business_central.webhooks import WebhookHub


def subscription_request(hub: WebhookHub, request: ApiRequest, key: str | None) -> ApiResponse:
    """Answer a request on ``subscriptions`` or ``subscriptions({id})``."""
    context = f"{request.base_url}/$metadata#subscriptions"
    if key is None and request.method == "GET":
        return ApiResponse(
            200,
            {
                "@odata.context": context,
                "value": [s.to_json() for s in hub.subscriptions.values()],
            },
        )
    if key is None and request.method == "POST":
        sub = hub.create(request.body or {})
        return ApiResponse(201, entity_body(context, sub.to_json()))
    if key is None:
        raise ApiError(405, "BadRequest_MethodNotAllowed", "Use GET or POST on subscriptions.")
    key = key.strip("'")  # BC's documented form is subscriptions('<id>')
    if request.method == "GET":
        return ApiResponse(200, entity_body(context, hub.get(key).to_json()))
    if request.method == "PATCH":
        return ApiResponse(200, entity_body(context, hub.renew(key, request.body or {}).to_json()))
    if request.method == "DELETE":
        hub.delete(key)
        return ApiResponse(204)
    raise ApiError(405, "BadRequest_MethodNotAllowed", f"{request.method} is not allowed here.")
