"""Admin-only routes: tokens and revocation over HTTP, the same as the CLI's.

Every change is written to the audit log with the calling token's id as actor.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, Field

from kitlife.collector.api.deps import Admin, StoreDep
from kitlife.collector.api.enroll import NO_NUL
from kitlife.collector.store import NotFoundError

router = APIRouter(tags=["admin"])


class TokenRequest(BaseModel):
    role: Literal["enroll", "servicedesk", "admin"]
    name: str = Field("", max_length=255, pattern=NO_NUL)
    uses: int = Field(1, ge=1, le=1_000_000, description="Enrolment tokens: devices it may enrol")
    expires_in_s: int | None = Field(
        None,
        ge=60,
        le=366 * 86400,
        description="Lifetime; enrolment tokens default to 7 days, API tokens never expire",
    )


class TokenCreated(BaseModel):
    token: str = Field(description="The secret, shown only this once")
    role: str


@router.post(
    "/v1/tokens",
    response_model=TokenCreated,
    status_code=status.HTTP_201_CREATED,
    summary="Create an enrolment or API token (admin)",
    responses={401: {"description": "no valid token"}, 403: {"description": "not an admin"}},
)
def create_token(body: TokenRequest, store: StoreDep, caller: Admin) -> TokenCreated:
    if body.role == "enroll":
        secret = store.create_enrol_token(
            body.uses, body.expires_in_s or 7 * 86400, body.name, actor=caller.actor
        )
    else:
        secret = store.create_api_token(body.role, body.name, body.expires_in_s, actor=caller.actor)
    return TokenCreated(token=secret, role=body.role)


@router.get(
    "/v1/tokens",
    summary="Every token, without its secret (admin)",
    responses={401: {"description": "no valid token"}, 403: {"description": "not an admin"}},
)
def list_tokens(store: StoreDep, _role: Admin) -> list[dict[str, Any]]:
    return store.list_tokens()


@router.post(
    "/v1/devices/{query}/revoke",
    summary="Revoke a device's key at once (admin)",
    responses={
        401: {"description": "no valid token"},
        403: {"description": "not an admin"},
        404: {"description": "no such device, or ambiguous"},
    },
)
def revoke_device(query: str, store: StoreDep, caller: Admin) -> dict[str, str]:
    try:
        uid = store.revoke_device(query, actor=caller.actor)
    except NotFoundError as err:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(err)) from err
    return {"revoked": uid}
