"""POST /v1/enroll: an enrolment token buys a device its own key."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, status
from pydantic import BaseModel, Field

from kitlife.collector.api.deps import StoreDep, bearer_secret
from kitlife.collector.store import AuthError

router = APIRouter(tags=["agents"])
# PostgreSQL text cannot hold NUL: refuse it at the door (422), as SQLite would store it.
NO_NUL = r"^[^\x00]*$"


class EnrolRequest(BaseModel):
    facts: dict[
        Annotated[str, Field(max_length=64, pattern=NO_NUL)],
        Annotated[str, Field(max_length=255, pattern=NO_NUL)],
    ] = Field(
        default_factory=dict,
        max_length=32,
        description="Basic inventory (inv.hostname, inv.os_name ...) to name the device; "
        "inv.vendor with inv.serial recognise a laptop that enrols again",
    )


class EnrolResponse(BaseModel):
    device_id: str = Field(
        description="The id the agent puts in its batches: a live device's own id again when "
        "inv.vendor and a real inv.serial match it and it has been silent for an hour "
        "(re-enrolment), else a new one",
    )
    device_key: str


@router.post(
    "/v1/enroll",
    response_model=EnrolResponse,
    responses={401: {"description": "token unknown, expired, used up or revoked"}},
)
def enroll(
    body: EnrolRequest, store: StoreDep, token: Annotated[str, Depends(bearer_secret)]
) -> EnrolResponse:
    try:
        uid, key = store.enroll(token, body.facts)
    except AuthError as err:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, str(err), headers={"WWW-Authenticate": "Bearer"}
        ) from err
    return EnrolResponse(device_id=uid, device_key=key)
