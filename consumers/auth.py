"""Who is calling: a desk, by its bearer token, and what it may see.

Tokens are stored as SHA-256 digests only (``schemas.desks.Desks``), loaded from a file or
from the environment so a Kubernetes Secret can provide them. A program sends
``Authorization: Bearer <token>``; a browser, whose EventSource cannot send headers, gets
an HttpOnly, SameSite=Strict cookie from ``POST /v1/session`` instead. A token never
appears in a URL, so never in an access log.
"""

from __future__ import annotations

from pathlib import Path

from starlette.requests import HTTPConnection

from schemas.desks import Desk, Desks
from schemas.settings import GatewaySettings

COOKIE = "sw_session"


class AuthError(Exception):
    """401: no token, or one that is not any desk's."""


def load_desks(settings: GatewaySettings) -> Desks:
    if settings.tokens_json:
        return Desks.model_validate_json(settings.tokens_json)
    if settings.tokens_file:
        return Desks.model_validate_json(Path(settings.tokens_file).read_text())
    return Desks()


def token_of(connection: HTTPConnection) -> str | None:
    header = connection.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return connection.cookies.get(COOKIE) or None


def authenticate(desks: Desks, connection: HTTPConnection) -> Desk:
    token = token_of(connection)
    if token is None:
        raise AuthError("a bearer token is required (Authorization: Bearer <token>)")
    desk = desks.by_token(token)
    if desk is None:
        raise AuthError("this token is not valid")
    return desk
