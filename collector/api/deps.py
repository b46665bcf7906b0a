"""Shared request dependencies: the store, and who is calling."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from kitlife.collector.policy.fit import RolesConfig, load_roles
from kitlife.collector.runtime.settings import Settings
from kitlife.collector.store import DeviceRef, Store

_bearer = HTTPBearer(auto_error=False)
Bearer = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def get_store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_roles(request: Request) -> RolesConfig:
    """The role profiles: KITLIFE_ROLES's file, else the shipped one (read per request,
    so an edited file counts without a restart, as it does for the rescorer)."""
    return load_roles(get_settings(request).roles_path)


def _unauthorised(reason: str) -> HTTPException:
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED, reason, headers={"WWW-Authenticate": "Bearer"}
    )


def bearer_secret(credentials: Bearer) -> str:
    if credentials is None or not credentials.credentials:
        raise _unauthorised("missing bearer credentials")
    return credentials.credentials


def current_device(
    secret: Annotated[str, Depends(bearer_secret)], store: Annotated[Store, Depends(get_store)]
) -> DeviceRef:
    device = store.device_for_key(secret)
    if device is None:
        raise _unauthorised("unknown or revoked device key")
    return device


@dataclass(frozen=True, slots=True)
class Caller:
    """The API token behind a request: its id (``a7``, the audit log's actor) and role."""

    token_id: str
    role: str

    @property
    def actor(self) -> str:
        return f"token {self.token_id}"


def require_role(*allowed: str) -> Callable[..., Caller]:
    """A dependency that admits API tokens whose role is in ``allowed``."""

    def check(
        secret: Annotated[str, Depends(bearer_secret)], store: Annotated[Store, Depends(get_store)]
    ) -> Caller:
        found = store.api_caller(secret)
        if found is None:
            raise _unauthorised("unknown, expired or revoked API token")
        caller = Caller(*found)
        if caller.role not in allowed:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                f"role {caller.role!r} may not do this; needs {' or '.join(allowed)}",
            )
        return caller

    return check


ServiceDesk = Annotated[Caller, Depends(require_role("servicedesk", "admin"))]
Admin = Annotated[Caller, Depends(require_role("admin"))]
StoreDep = Annotated[Store, Depends(get_store)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
RolesDep = Annotated[RolesConfig, Depends(get_roles)]
DeviceDep = Annotated[DeviceRef, Depends(current_device)]
