"""REST API, version 1: the caller, API tokens, users and roles, training attestations.

    GET    /api/v1/me                         the caller: id, user name, roles, permissions, purposes, training
    GET    /api/v1/tokens                     the caller's API tokens (never the secrets)
    POST   /api/v1/tokens                     {"name", "scopes": [...], "days"} -> secret shown once
    DELETE /api/v1/tokens/{token_id}          revoke one of the caller's tokens
    GET    /api/v1/users                      accounts with roles and training status
    POST   /api/v1/users                      {"username", "roles"} -> initial password shown once
    POST   /api/v1/users/{user_id}/roles      {"role"} grant
    DELETE /api/v1/users/{user_id}/roles/{role}
    POST   /api/v1/users/{user_id}/disable
    GET    /api/v1/training                   attestations
    POST   /api/v1/training                   {"user_id", "course", "date": "YYYY-MM-DD"}
    GET    /api/v1/projects/{id}/policy       a project's privacy policy
    PUT    /api/v1/projects/{id}/policy       replace it (YAML or JSON body)

Every change is written to the audit log in the same transaction.
"""

from __future__ import annotations

from fastapi import APIRouter, Body, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import select

from ..db.models import ApiToken, TrainingAttestation, User
from ..errors import InvalidInput, PermissionDenied
from ..governance import accounts
from ..governance.access import record_training, training_status
from ..governance.permissions import purposes_for
from ..governance.policies import get_policy, set_policy
from ..runtime import Runtime
from .auth import client_ip, principal

__all__ = ["router", "users_overview"]

router = APIRouter(prefix="/api/v1")


def _rt(request: Request) -> Runtime:
    return request.app.state.rt


@router.get("/me", summary="The caller")
def me(request: Request) -> dict:
    """``user_id``, ``username``, ``roles``, ``permissions``, ``purposes`` and ``training`` (valid, date)."""
    p, rt = principal(request), _rt(request)
    with rt.sessions() as db:
        ok, latest = training_status(db, p.user_id, rt.settings.training_max_age_days)
    return {"user_id": p.user_id, "username": p.username, "roles": sorted(p.roles),
            "permissions": sorted(p.permissions), "purposes": [x.value for x in purposes_for(p.roles)],
            "via": p.via, "training": {"valid": ok, "latest": latest}}


@router.get("/tokens", summary="The caller's API tokens")
def tokens(request: Request) -> list[dict]:
    """Id, name, scopes, created/expires/last-used (ms), revoked — never the secret."""
    p = principal(request)
    with _rt(request).sessions() as db:
        rows = db.scalars(select(ApiToken).where(ApiToken.user_id == p.user_id).order_by(ApiToken.created_ms))
        return [{"id": t.id, "name": t.name, "scopes": t.scopes, "created_ms": t.created_ms,
                 "expires_ms": t.expires_ms, "last_used_ms": t.last_used_ms, "revoked": t.revoked} for t in rows]


@router.post("/tokens", summary="Create an API token (secret shown once)")
def create_token(request: Request, name: str = Body(..., min_length=1, max_length=100),
                 scopes: list[str] = Body(..., max_length=20), days: int = Body(90)) -> dict:
    """Scopes are permission names the caller holds; the token never exceeds its owner's current roles.
    Tokens are created from a login session only (a token cannot mint tokens that outlive it)."""
    p, rt = principal(request), _rt(request)
    if p.via != "session":
        raise PermissionDenied("API tokens are created from a dashboard login session, not with another token")
    with rt.audit.lock, rt.sessions() as db:
        row, secret = accounts.create_token(db, accounts.get_user(db, p.user_id), name, scopes, days, limit=p.permissions)
        rt.audit.record(actor=p.actor, action="token.created", resource=f"token:{row.id}", origin_ip=client_ip(request),
                        details={"scopes": row.scopes, "expires_ms": row.expires_ms}, db=db)
        db.commit()
    return {"id": row.id, "token": secret, "scopes": row.scopes, "expires_ms": row.expires_ms}


@router.delete("/tokens/{token_id}", summary="Revoke an API token")
def delete_token(request: Request, token_id: str) -> dict:
    """Revoke one of the caller's own tokens."""
    p, rt = principal(request), _rt(request)
    with rt.audit.lock, rt.sessions() as db:
        accounts.revoke_token(db, p.user_id, token_id)
        rt.audit.record(actor=p.actor, action="token.revoked", resource=f"token:{token_id}", origin_ip=client_ip(request),
                        db=db)
        db.commit()
    return {"revoked": token_id}


def users_overview(rt: Runtime) -> list[dict]:
    """Every account: ``id``, ``username``, ``roles``, ``disabled``, ``training`` {valid, latest}, ``last_login_ms``."""
    out = []
    with rt.sessions() as db:
        for u in db.scalars(select(User).order_by(User.username)):
            ok, latest = training_status(db, u.id, rt.settings.training_max_age_days)
            out.append({"id": u.id, "username": u.username, "roles": sorted(accounts.roles_of(db, u.id)),
                        "disabled": u.disabled, "totp": bool(u.totp_secret), "last_login_ms": u.last_login_ms,
                        "training": {"valid": ok, "latest": latest}})
    return out


@router.get("/users", summary="Accounts with roles and training status")
def users(request: Request) -> list[dict]:
    """See :func:`users_overview`."""
    return users_overview(_rt(request))


@router.post("/users", summary="Create a user (initial password shown once)")
def add_user(request: Request, username: str = Body(..., max_length=64), roles: list[str] = Body(..., max_length=6)) -> dict:
    """``{"username", "roles"}`` -> ``{"id", "username", "roles", "password"}``."""
    p, rt = principal(request), _rt(request)
    password = accounts.new_password()
    with rt.audit.lock, rt.sessions() as db:
        user = accounts.create_user(db, username, password, roles, p.actor)
        rt.audit.record(actor=p.actor, action="user.created", resource=f"user:{user.id}", origin_ip=client_ip(request),
                        details={"roles": sorted(set(roles))}, db=db)
        db.commit()
    return {"id": user.id, "username": user.username, "roles": sorted(set(roles)), "password": password}


@router.post("/users/{user_id}/roles", summary="Grant a role")
def grant(request: Request, user_id: str, role: str = Body(..., embed=True, max_length=32)) -> dict:
    """``{"role"}`` -> the user's roles."""
    p, rt = principal(request), _rt(request)
    with rt.audit.lock, rt.sessions() as db:
        user = accounts.get_user(db, user_id)
        if accounts.grant_role(db, user, role, p.actor):
            rt.audit.record(actor=p.actor, action="role.granted", resource=f"user:{user.id}",
                            origin_ip=client_ip(request), details={"role": role}, db=db)
        db.commit()
        return {"id": user.id, "roles": sorted(accounts.roles_of(db, user.id))}


@router.delete("/users/{user_id}/roles/{role}", summary="Revoke a role")
def revoke(request: Request, user_id: str, role: str) -> dict:
    """The user's remaining roles."""
    p, rt = principal(request), _rt(request)
    with rt.audit.lock, rt.sessions() as db:
        user = accounts.get_user(db, user_id)
        if accounts.revoke_role(db, user, role, p.actor):
            rt.audit.record(actor=p.actor, action="role.revoked", resource=f"user:{user.id}",
                            origin_ip=client_ip(request), details={"role": role[:32]}, db=db)
        db.commit()
        return {"id": user.id, "roles": sorted(accounts.roles_of(db, user.id))}


@router.post("/users/{user_id}/disable", summary="Disable a user")
def disable(request: Request, user_id: str) -> dict:
    """Ends the user's login sessions and revokes their API tokens."""
    p, rt = principal(request), _rt(request)
    with rt.audit.lock, rt.sessions() as db:
        user = accounts.get_user(db, user_id)
        accounts.set_disabled(db, user, True)
        rt.audit.record(actor=p.actor, action="user.disabled", resource=f"user:{user.id}",
                        origin_ip=client_ip(request), db=db)
        db.commit()
    return {"id": user_id, "disabled": True}


@router.get("/projects/{project_id}/policy", summary="A project's privacy policy")
def policy(request: Request, project_id: str) -> dict:
    """The policy as JSON (the strict default when none was set), plus its ``sha256``."""
    pol = get_policy(_rt(request), project_id)
    return {**pol.model_dump(), "sha256": pol.digest()}


@router.put("/projects/{project_id}/policy", summary="Replace a project's privacy policy")
async def put_policy(request: Request, project_id: str) -> dict:
    """Body: the policy as YAML or JSON (at most 64 KB); 400 names the invalid field. Audited."""
    body = bytearray()
    async for part in request.stream():
        body += part
        if len(body) > 64_000:
            raise InvalidInput("policy is larger than 64 KB")
    pol = await run_in_threadpool(set_policy, _rt(request), project_id, bytes(body), principal(request).actor,
                                  client_ip(request))
    return {**pol.model_dump(), "sha256": pol.digest()}


@router.get("/training", summary="Compliance-training attestations")
def training(request: Request) -> list[dict]:
    """Newest first: ``user_id``, ``username``, ``course``, ``date``, ``recorded_by``, ``recorded_ms``."""
    with _rt(request).sessions() as db:
        names = accounts.user_names(db)
        rows = db.scalars(select(TrainingAttestation).order_by(TrainingAttestation.recorded_ms.desc()).limit(1000))
        return [{"user_id": r.user_id, "username": names.get(r.user_id), "course": r.course, "date": r.completed_on,
                 "recorded_by": r.recorded_by, "recorded_ms": r.recorded_ms} for r in rows]


@router.post("/training", summary="Record a compliance-training attestation")
def add_training(request: Request, user_id: str = Body(..., max_length=32), course: str = Body(..., max_length=100),
                 date: str = Body(..., max_length=10)) -> dict:
    """``{"user_id", "course", "date": "YYYY-MM-DD"}`` -> the attestation."""
    p, rt = principal(request), _rt(request)
    with rt.audit.lock, rt.sessions() as db:
        row = record_training(db, accounts.get_user(db, user_id), course, date, p.actor)
        rt.audit.record(actor=p.actor, action="training.recorded", resource=f"user:{user_id}",
                        origin_ip=client_ip(request), details={"course": row.course, "date": row.completed_on}, db=db)
        db.commit()
    return {"user_id": user_id, "course": row.course, "date": row.completed_on}
