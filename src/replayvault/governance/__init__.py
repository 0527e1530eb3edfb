"""Governance: roles and permissions, accounts, purpose-bound access, training attestations, exports."""

from __future__ import annotations

from .accounts import Principal
from .permissions import PURPOSE_ROLES, ROLE_PERMISSIONS, ROUTE_RULES, Permission, Purpose, Role, Rule

__all__ = ["Principal", "Permission", "Purpose", "Role", "Rule", "PURPOSE_ROLES", "ROLE_PERMISSIONS", "ROUTE_RULES"]
