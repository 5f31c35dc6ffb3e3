"""Users and tokens (admin only). A token's text is shown once, when it is created."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from isthmus.api.auth import Principal, issue_token, require
from isthmus.api.context import ApiContext, context
from isthmus.api.errors import ERROR_RESPONSES, ApiError, not_found
from isthmus.api.logs import log
from isthmus.api.models import TokenOut, UserIn, UserOut
from isthmus.store import ApiToken, User

router = APIRouter(tags=["access"], responses=ERROR_RESPONSES)
Ctx = Annotated[ApiContext, Depends(context)]
Admin = Annotated[Principal, Depends(require("admin"))]


def token_out(token: ApiToken, text: str | None = None) -> TokenOut:
    return TokenOut(
        id=token.id,
        user=token.user_name,
        created_at=token.created_at,
        revoked=token.revoked_at is not None,
        token=text,
    )


@router.get("/users", response_model=list[UserOut])
def list_users(ctx: Ctx, _: Admin) -> list[UserOut]:
    return [
        UserOut(name=u.name, role=u.role, created_at=u.created_at) for u in ctx.engine.store.users()
    ]


@router.post("/users", response_model=UserOut)
def add_user(body: UserIn, ctx: Ctx, who: Admin) -> UserOut:
    if body.name == who.user.name and body.role != "admin":
        raise ApiError(
            409, "an admin cannot lower their own role", "Ask another admin to change it."
        )
    ctx.engine.store.add_user(User(body.name, body.role))
    log.info("user_set", user=body.name, role=body.role, actor=who.actor)
    stored = ctx.engine.store.user(body.name)
    assert stored is not None  # just written
    return UserOut(name=stored.name, role=stored.role, created_at=stored.created_at)


@router.get("/tokens", response_model=list[TokenOut])
def list_tokens(ctx: Ctx, _: Admin) -> list[TokenOut]:
    return [token_out(token) for token in ctx.engine.store.tokens()]


@router.post("/users/{name}/tokens", response_model=TokenOut)
def create_token(name: str, ctx: Ctx, who: Admin) -> TokenOut:
    token, text = issue_token(ctx.engine.store, name)
    log.info("api_key_created", key_id=token.id, user=name, actor=who.actor)
    stored = ctx.engine.store.token(token.id) or token
    return token_out(stored, text)


@router.delete("/tokens/{token_id}", response_model=TokenOut)
def revoke_token(token_id: str, ctx: Ctx, who: Admin) -> TokenOut:
    token = ctx.engine.store.token(token_id)
    if token is None:
        raise not_found(f"no token with id {token_id!r}", "GET /tokens lists them.")
    if not ctx.engine.store.revoke_token(token_id):
        raise ApiError(409, f"token {token_id} is already revoked", "Nothing to do.")
    log.info("api_key_revoked", key_id=token_id, actor=who.actor)
    return token_out(ctx.engine.store.token(token_id) or token)
