"""The gateway's OpenAPI 3.1 document, with message schemas exported from ``schemas``."""

from __future__ import annotations

from typing import Any

from schemas import Alert, Stance, Topic
from schemas.desks import Subscription, SubscriptionRequest
from schemas.state import StanceState

_FILTERS = [
    {
        "name": "government",
        "in": "query",
        "schema": {"type": "string"},
        "description": "ISO codes, comma-separated or repeated",
    },
    {"name": "topic", "in": "query", "schema": {"enum": [t.value for t in Topic]}},
    {"name": "stance", "in": "query", "schema": {"enum": [s.value for s in Stance]}},
    {
        "name": "min_confidence",
        "in": "query",
        "schema": {"type": "number", "minimum": 0, "maximum": 1},
    },
]
_ERRORS = {
    "400": {
        "description": "Bad request",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    },
    "401": {
        "description": "No token, or an unknown one",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    },
    "403": {
        "description": "Outside the desk's scope",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    },
}


_BODY_ERRORS = {
    "413": {
        "description": "Body over 64 KiB",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    },
    "415": {
        "description": "Body not declared as application/json",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    },
}


def _json(ref: str) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}}}


def document() -> dict[str, Any]:
    secured: dict[str, Any] = {"security": [{"bearer": []}, {"session": []}], "responses": {}}

    def op(summary: str, ok: dict[str, Any], **extra: Any) -> dict[str, Any]:
        return {**secured, "summary": summary, **extra, "responses": {"200": ok, **_ERRORS}}

    return {
        "openapi": "3.1.0",
        "info": {"title": "stancewire gateway", "version": "1"},
        "paths": {
            "/v1/alerts/stream": {
                "get": op(
                    "Alerts as server-sent events (event: alert, id: partition:offset); "
                    "send Last-Event-ID to resume without a gap",
                    {
                        "description": "text/event-stream of Alert JSON",
                        "content": {"text/event-stream": {}},
                    },
                    parameters=_FILTERS,
                )
            },
            "/v1/alerts/{alert_id}": {
                "get": op(
                    "One alert, with how many outlets carried its story",
                    {"description": "The alert", **_json("AlertWithOutlets")},
                    parameters=[
                        {
                            "name": "alert_id",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string"},
                        }
                    ],
                )
            },
            "/v1/stances": {
                "get": op(
                    "The stance board: every government and topic's current stance",
                    {"description": "The board", **_json("Board")},
                    parameters=_FILTERS[:2],
                )
            },
            "/v1/stances/{government}/{topic}": {
                "get": op(
                    "One stance now, and its alerts",
                    {"description": "Current state and history"},
                    parameters=[
                        {
                            "name": "government",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string"},
                        },
                        {
                            "name": "topic",
                            "in": "path",
                            "required": True,
                            "schema": {"enum": [t.value for t in Topic]},
                        },
                    ],
                )
            },
            "/v1/subscriptions": {
                "get": op("This desk's webhook subscriptions", {"description": "Subscriptions"}),
                "post": {
                    **op(
                        "Subscribe a webhook", {"description": "Created", **_json("Subscription")}
                    ),
                    "requestBody": {"required": True, **_json("SubscriptionRequest")},
                    "responses": {
                        "201": {"description": "Created", **_json("Subscription")},
                        **_ERRORS,
                        **_BODY_ERRORS,
                    },
                },
            },
            "/v1/subscriptions/{subscription_id}": {
                "get": op(
                    "One subscription", {"description": "The subscription", **_json("Subscription")}
                ),
                "delete": op("Unsubscribe", {"description": "Deleted (204)"}),
            },
            "/v1/session": {
                "post": op(
                    "Exchange the bearer token for an HttpOnly session cookie (browsers)",
                    {"description": "The desk"},
                ),
                "delete": {
                    "summary": "End the session",
                    "responses": {"204": {"description": "Ended"}},
                },
            },
            "/healthz": {
                "get": {"summary": "Liveness", "responses": {"200": {"description": "Alive"}}}
            },
            "/readyz": {
                "get": {
                    "summary": "Readiness: Redis answers, alert history read",
                    "responses": {
                        "200": {"description": "Ready"},
                        "503": {"description": "Not ready"},
                    },
                }
            },
        },
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "session": {"type": "apiKey", "in": "cookie", "name": "sw_session"},
            },
            "schemas": {
                "Alert": Alert.model_json_schema(by_alias=True),
                "StanceState": StanceState.model_json_schema(),
                "Subscription": Subscription.model_json_schema(),
                "SubscriptionRequest": SubscriptionRequest.model_json_schema(),
                "AlertWithOutlets": {
                    "type": "object",
                    "properties": {
                        "alert": {"$ref": "#/components/schemas/Alert"},
                        "event_id": {"type": "string"},
                        "outlets": {"type": "integer"},
                        "reports": {"type": "integer"},
                    },
                },
                "Board": {
                    "type": "object",
                    "properties": {
                        "stances": {
                            "type": "array",
                            "items": {"$ref": "#/components/schemas/StanceState"},
                        }
                    },
                },
                "Error": {
                    "type": "object",
                    "properties": {
                        "error": {
                            "type": "object",
                            "properties": {
                                "status": {"type": "integer"},
                                "message": {"type": "string"},
                            },
                        }
                    },
                },
            },
        },
    }
