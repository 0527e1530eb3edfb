"""The permission matrix: roles, permissions, purposes, and the rule of every HTTP route — in one place.

Roles come from how banks staff this work (DESIGN.md "Roles"). A user's permissions are the union
of their roles' permissions; an API token carries a subset of its owner's permissions (its scopes).
Reading recording content (``recordings:read``) is further bound to a declared purpose, and each
purpose is open only to the roles in :data:`PURPOSE_ROLES`. Admins run the system but cannot read
recordings unless they also hold a reading role.

Every route of the web app has exactly one entry in :data:`ROUTE_RULES`; the app refuses (500, "no
access rule") a route that has none, and a test walks the app's routes against this table.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

__all__ = ["Role", "Permission", "Purpose", "Rule", "ROLE_PERMISSIONS", "PURPOSE_ROLES", "ROUTE_RULES",
           "permissions_for", "purposes_for", "rule_for"]


class Role(StrEnum):
    """Staff roles (DESIGN.md)."""

    COMPLIANCE_LEAD = "compliance_lead"
    PRIVACY_OFFICER = "privacy_officer"
    HR_LIAISON = "hr_liaison"
    UX_ANALYST = "ux_analyst"
    SECURITY_SPECIALIST = "security_specialist"
    ADMIN = "admin"


class Permission(StrEnum):
    """What a route needs. ``recordings:*`` additionally need a purpose the role may use."""

    SESSIONS_LIST = "sessions:list"          # session metadata (times, counts, URLs without query)
    HEATMAPS_READ = "heatmaps:read"          # aggregated click and scroll maps
    RECORDINGS_READ = "recordings:read"      # replay events: purpose-bound, audited before returned
    EXPORTS_REQUEST = "exports:request"      # ask to export a recording (four-eyes)
    EXPORTS_APPROVE = "exports:approve"      # approve or reject someone else's export request
    AUDIT_READ = "audit:read"                # audit log, proofs, verification status, who viewed what
    AUDIT_CHECKPOINT = "audit:checkpoint"    # sign a checkpoint on demand
    USERS_MANAGE = "users:manage"            # create, disable users; grant and revoke roles
    USERS_LIST = "users:list"                # see accounts and their roles
    TRAINING_RECORD = "training:record"      # record compliance-training attestations
    TRAINING_READ = "training:read"          # see attestations
    POLICY_MANAGE = "policy:manage"          # read and change a project's privacy policy
    RETENTION_MANAGE = "retention:manage"    # retention status, run the sweep (crypto-shredding)
    LEGAL_HOLD = "legal_hold:manage"         # place and release legal holds on sessions
    DSAR_MANAGE = "dsar:manage"              # data subject requests: register, export, erase
    BUDGET_READ = "budget:read"              # budget planner: cost scenarios (installation-wide figures only)
    METRICS_READ = "metrics:read"            # Prometheus /metrics: counts only (for a scraper's API token)
    ACCESS_REVIEW = "access_review:manage"   # periodic access reviews: open, attest or revoke others' roles, close
    COMPLIANCE_READ = "compliance:read"      # compliance metrics and checklist (counts, session ids, audit indexes)


class Purpose(StrEnum):
    """Declared purpose of a read of recording content (DESIGN.md)."""

    UX_RESEARCH = "ux_research"
    FRAUD_INVESTIGATION = "fraud_investigation"
    CUSTOMER_SUPPORT = "customer_support"
    COMPLIANCE_AUDIT = "compliance_audit"
    DSAR = "dsar"


class Rule(StrEnum):
    """Route rules that are not a single permission."""

    PUBLIC = "public"                # no login (login page, static tracker)
    WRITE_KEY = "write_key"          # project write key: ingest and consent only
    AUTHENTICATED = "authenticated"  # any logged-in user (own profile, own tokens, logout)


P = Permission
ROLE_PERMISSIONS: Final[dict[Role, frozenset[Permission]]] = {
    Role.COMPLIANCE_LEAD: frozenset({P.SESSIONS_LIST, P.HEATMAPS_READ, P.RECORDINGS_READ, P.EXPORTS_REQUEST,
                                     P.AUDIT_READ, P.AUDIT_CHECKPOINT, P.USERS_LIST, P.TRAINING_READ,
                                     P.POLICY_MANAGE, P.BUDGET_READ, P.RETENTION_MANAGE, P.LEGAL_HOLD,
                                     P.DSAR_MANAGE, P.ACCESS_REVIEW, P.COMPLIANCE_READ}),
    Role.PRIVACY_OFFICER: frozenset({P.SESSIONS_LIST, P.HEATMAPS_READ, P.RECORDINGS_READ, P.EXPORTS_REQUEST,
                                     P.EXPORTS_APPROVE, P.AUDIT_READ, P.USERS_LIST, P.TRAINING_READ,
                                     P.POLICY_MANAGE, P.BUDGET_READ, P.RETENTION_MANAGE, P.LEGAL_HOLD,
                                     P.DSAR_MANAGE, P.COMPLIANCE_READ}),
    Role.HR_LIAISON: frozenset({P.USERS_LIST, P.TRAINING_RECORD, P.TRAINING_READ, P.BUDGET_READ, P.ACCESS_REVIEW}),
    Role.UX_ANALYST: frozenset({P.SESSIONS_LIST, P.HEATMAPS_READ, P.RECORDINGS_READ}),
    Role.SECURITY_SPECIALIST: frozenset({P.SESSIONS_LIST, P.HEATMAPS_READ, P.RECORDINGS_READ, P.EXPORTS_REQUEST,
                                         P.AUDIT_READ, P.AUDIT_CHECKPOINT, P.USERS_LIST, P.METRICS_READ,
                                         P.COMPLIANCE_READ}),
    Role.ADMIN: frozenset({P.SESSIONS_LIST, P.HEATMAPS_READ, P.USERS_MANAGE, P.USERS_LIST, P.AUDIT_READ,
                           P.AUDIT_CHECKPOINT, P.TRAINING_READ, P.BUDGET_READ, P.METRICS_READ}),
}

#: Which roles may read recording content for which purpose. fraud_investigation needs a
#: security_specialist; ux_analyst may use ux_research only (the issue's rules).
PURPOSE_ROLES: Final[dict[Purpose, frozenset[Role]]] = {
    Purpose.UX_RESEARCH: frozenset({Role.UX_ANALYST}),
    Purpose.FRAUD_INVESTIGATION: frozenset({Role.SECURITY_SPECIALIST}),
    Purpose.CUSTOMER_SUPPORT: frozenset({Role.SECURITY_SPECIALIST, Role.COMPLIANCE_LEAD}),
    Purpose.COMPLIANCE_AUDIT: frozenset({Role.COMPLIANCE_LEAD, Role.PRIVACY_OFFICER, Role.SECURITY_SPECIALIST}),
    Purpose.DSAR: frozenset({Role.PRIVACY_OFFICER, Role.COMPLIANCE_LEAD}),
}

RouteRule = Permission | Rule

#: (method, path template) -> rule. Path templates are FastAPI's (``{session_id}``).
ROUTE_RULES: Final[dict[tuple[str, str], RouteRule]] = {
    # collector and public assets
    ("POST", "/api/v1/ingest"): Rule.WRITE_KEY,
    ("POST", "/api/v1/consent"): Rule.WRITE_KEY,
    ("POST", "/api/v1/consent/renew"): Rule.WRITE_KEY,
    ("OPTIONS", "/api/v1/ingest"): Rule.PUBLIC,
    ("OPTIONS", "/api/v1/consent"): Rule.PUBLIC,
    ("OPTIONS", "/api/v1/consent/renew"): Rule.PUBLIC,
    ("GET", "/t/replayvault.js"): Rule.PUBLIC,
    ("GET", "/openapi.json"): Rule.PUBLIC,  # API description (no data)
    ("GET", "/login"): Rule.PUBLIC,
    ("POST", "/login"): Rule.PUBLIC,
    ("POST", "/logout"): Rule.AUTHENTICATED,
    # API: identity and tokens
    ("GET", "/api/v1/me"): Rule.AUTHENTICATED,
    ("GET", "/api/v1/tokens"): Rule.AUTHENTICATED,
    ("POST", "/api/v1/tokens"): Rule.AUTHENTICATED,
    ("DELETE", "/api/v1/tokens/{token_id}"): Rule.AUTHENTICATED,
    # API: recordings and analytics
    ("GET", "/api/v1/sessions"): P.SESSIONS_LIST,
    ("GET", "/api/v1/sessions/{session_id}"): P.SESSIONS_LIST,
    ("GET", "/api/v1/sessions/{session_id}/events"): P.RECORDINGS_READ,
    ("POST", "/api/v1/sessions/{session_id}/access"): P.RECORDINGS_READ,
    ("POST", "/api/v1/sessions/{session_id}/seeks"): P.RECORDINGS_READ,
    ("GET", "/api/v1/sessions/{session_id}/viewers"): P.AUDIT_READ,
    ("GET", "/api/v1/privacy/capture-compliance"): P.SESSIONS_LIST,
    ("GET", "/api/v1/pages"): P.HEATMAPS_READ,
    ("GET", "/api/v1/heatmaps"): P.HEATMAPS_READ,
    ("GET", "/api/v1/heatmaps/layers"): P.HEATMAPS_READ,
    # API: behaviour analytics (web.api_analytics)
    ("GET", "/api/v1/sessions/search"): P.SESSIONS_LIST,
    ("GET", "/api/v1/sessions/{session_id}/signals"): P.SESSIONS_LIST,
    ("GET", "/api/v1/signals"): P.HEATMAPS_READ,
    ("GET", "/api/v1/funnels"): P.HEATMAPS_READ,
    ("GET", "/api/v1/forms"): P.HEATMAPS_READ,
    # API: exports (four-eyes)
    ("GET", "/api/v1/exports"): Rule.AUTHENTICATED,
    ("POST", "/api/v1/sessions/{session_id}/exports"): P.EXPORTS_REQUEST,
    ("POST", "/api/v1/exports/{export_id}/approve"): P.EXPORTS_APPROVE,
    ("POST", "/api/v1/exports/{export_id}/reject"): P.EXPORTS_APPROVE,
    ("GET", "/api/v1/exports/{export_id}/download"): P.EXPORTS_REQUEST,
    # API: audit log
    ("GET", "/api/v1/audit/entries"): P.AUDIT_READ,
    ("GET", "/api/v1/audit/entries/{idx}"): P.AUDIT_READ,
    ("GET", "/api/v1/audit/entries/{idx}/proof"): P.AUDIT_READ,
    ("GET", "/api/v1/audit/consistency"): P.AUDIT_READ,
    ("GET", "/api/v1/audit/checkpoint"): P.AUDIT_READ,
    ("POST", "/api/v1/audit/checkpoints"): P.AUDIT_CHECKPOINT,
    ("GET", "/api/v1/audit/public-key"): P.AUDIT_READ,
    ("GET", "/api/v1/audit/verify"): P.AUDIT_READ,
    # API: privacy policy per project
    ("GET", "/api/v1/projects/{project_id}/policy"): P.POLICY_MANAGE,
    ("PUT", "/api/v1/projects/{project_id}/policy"): P.POLICY_MANAGE,
    # API: users and training
    ("GET", "/api/v1/users"): P.USERS_LIST,
    ("POST", "/api/v1/users"): P.USERS_MANAGE,
    ("POST", "/api/v1/users/{user_id}/roles"): P.USERS_MANAGE,
    ("DELETE", "/api/v1/users/{user_id}/roles/{role}"): P.USERS_MANAGE,
    ("POST", "/api/v1/users/{user_id}/disable"): P.USERS_MANAGE,
    ("GET", "/api/v1/training"): P.TRAINING_READ,
    ("POST", "/api/v1/training"): P.TRAINING_RECORD,
    # API: retention, legal holds, data subject requests (web.api_governance)
    ("GET", "/api/v1/retention"): P.RETENTION_MANAGE,
    ("POST", "/api/v1/retention/runs"): P.RETENTION_MANAGE,
    ("GET", "/api/v1/retention/certificates"): P.AUDIT_READ,
    ("GET", "/api/v1/retention/certificates/{certificate_id}"): P.AUDIT_READ,
    ("GET", "/api/v1/legal-holds"): P.LEGAL_HOLD,
    ("POST", "/api/v1/sessions/{session_id}/legal-hold"): P.LEGAL_HOLD,
    ("POST", "/api/v1/sessions/{session_id}/legal-hold/release"): P.LEGAL_HOLD,
    ("GET", "/api/v1/dsar/requests"): P.DSAR_MANAGE,
    ("POST", "/api/v1/dsar/requests"): P.DSAR_MANAGE,
    ("POST", "/api/v1/dsar/requests/{request_id}/export"): P.DSAR_MANAGE,
    ("POST", "/api/v1/dsar/requests/{request_id}/erasure"): P.DSAR_MANAGE,
    # dashboard: retention and DSAR (web.dashboard_governance)
    ("GET", "/retention"): P.RETENTION_MANAGE,
    ("POST", "/retention/runs"): P.RETENTION_MANAGE,
    ("POST", "/retention/holds"): P.LEGAL_HOLD,
    ("POST", "/retention/holds/{session_id}/release"): P.LEGAL_HOLD,
    ("GET", "/retention/certificates/{certificate_id}"): P.AUDIT_READ,
    ("GET", "/dsar"): P.DSAR_MANAGE,
    ("POST", "/dsar/requests"): P.DSAR_MANAGE,
    ("POST", "/dsar/requests/{request_id}/export"): P.DSAR_MANAGE,
    ("POST", "/dsar/requests/{request_id}/erasure"): P.DSAR_MANAGE,
    # access reviews (web.api_reviews, web.dashboard_reviews)
    ("GET", "/api/v1/access-reviews"): P.ACCESS_REVIEW,
    ("POST", "/api/v1/access-reviews"): P.ACCESS_REVIEW,
    ("GET", "/api/v1/access-reviews/{review_id}"): P.ACCESS_REVIEW,
    ("POST", "/api/v1/access-reviews/{review_id}/items/{item_id}"): P.ACCESS_REVIEW,
    ("POST", "/api/v1/access-reviews/{review_id}/close"): P.ACCESS_REVIEW,
    ("GET", "/reviews"): P.ACCESS_REVIEW,
    ("POST", "/reviews"): P.ACCESS_REVIEW,
    ("GET", "/reviews/{review_id}"): P.ACCESS_REVIEW,
    ("POST", "/reviews/{review_id}/items/{item_id}"): P.ACCESS_REVIEW,
    ("POST", "/reviews/{review_id}/close"): P.ACCESS_REVIEW,
    # integration with SIEM/GRC systems (web.api_integration)
    ("GET", "/api/v1/siem/incidents.jsonl"): P.AUDIT_READ,
    ("GET", "/api/v1/siem/audit.jsonl"): P.AUDIT_READ,
    ("GET", "/metrics"): P.METRICS_READ,
    # compliance metrics and checklist (web.api_compliance, web.dashboard_compliance)
    ("GET", "/api/v1/compliance/metrics"): P.COMPLIANCE_READ,
    ("GET", "/api/v1/compliance/checklist"): P.COMPLIANCE_READ,
    ("GET", "/api/v1/compliance/consent-receipts"): P.COMPLIANCE_READ,
    ("GET", "/compliance"): P.COMPLIANCE_READ,
    # dashboard pages
    ("GET", "/"): P.SESSIONS_LIST,
    ("GET", "/sessions/{session_id}"): P.SESSIONS_LIST,
    ("POST", "/sessions/{session_id}/access"): P.RECORDINGS_READ,
    ("POST", "/sessions/{session_id}/exports"): P.EXPORTS_REQUEST,
    ("GET", "/heatmaps"): P.HEATMAPS_READ,
    ("GET", "/heatmaps/view"): P.HEATMAPS_READ,
    ("GET", "/heatmaps/frame"): P.HEATMAPS_READ,
    ("GET", "/funnels"): P.HEATMAPS_READ,
    ("GET", "/forms"): P.HEATMAPS_READ,
    ("GET", "/audit"): P.AUDIT_READ,
    ("POST", "/audit/checkpoints"): P.AUDIT_CHECKPOINT,
    ("GET", "/exports"): Rule.AUTHENTICATED,
    ("POST", "/exports/{export_id}/approve"): P.EXPORTS_APPROVE,
    ("POST", "/exports/{export_id}/reject"): P.EXPORTS_APPROVE,
    ("GET", "/exports/{export_id}/download"): P.EXPORTS_REQUEST,
    ("GET", "/training"): P.TRAINING_READ,
    ("POST", "/training"): P.TRAINING_RECORD,
    ("GET", "/users"): P.USERS_LIST,
    ("GET", "/budget"): P.BUDGET_READ,
    ("POST", "/budget"): P.BUDGET_READ,  # plan a pasted or uploaded scenario (changes nothing)
    ("GET", "/budget/export"): P.BUDGET_READ,
    ("GET", "/account"): Rule.AUTHENTICATED,
    ("GET", "/account/password"): Rule.AUTHENTICATED,
    ("POST", "/account/password"): Rule.AUTHENTICATED,
}


def permissions_for(roles: frozenset[str] | set[str] | list[str]) -> frozenset[Permission]:
    """Union of the permissions of ``roles`` (unknown role names grant nothing)."""
    out: set[Permission] = set()
    for name in roles:
        try:
            out |= ROLE_PERMISSIONS[Role(name)]
        except ValueError:
            continue
    return frozenset(out)


def purposes_for(roles: frozenset[str] | set[str] | list[str]) -> list[Purpose]:
    """Purposes the holder of ``roles`` may declare for reading recordings, in enum order."""
    held = {r for r in roles if r in Role._value2member_map_}
    return [p for p, allowed in PURPOSE_ROLES.items() if held & {r.value for r in allowed}]


def rule_for(method: str, path_template: str) -> RouteRule | None:
    """The rule of a route (``HEAD`` uses ``GET``'s), or None when the route has no rule (refused)."""
    method = "GET" if method == "HEAD" else method
    return ROUTE_RULES.get((method, path_template))
