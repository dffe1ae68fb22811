"""Operations: the audit trail, roles and API tokens, DORA metrics.

The role rules themselves live in `loopline.identity` (core layer), because the store
below this package enforces them; they are re-exported here with the rest.
"""

from __future__ import annotations

from loopline.ops._roles import ROLES, Principal, acting_as, authorize, permission_matrix
from loopline.ops._tokens import authenticate, create_token, revoke_token
from loopline.ops.audit import AuditVerdict, export_audit, verify_audit, verify_chain
from loopline.ops.dora import Change, DoraReport, Incident, Keys, dora_report, summarize

__all__ = [
    "ROLES",
    "AuditVerdict",
    "Change",
    "DoraReport",
    "Incident",
    "Keys",
    "Principal",
    "acting_as",
    "authenticate",
    "authorize",
    "create_token",
    "dora_report",
    "export_audit",
    "permission_matrix",
    "revoke_token",
    "summarize",
    "verify_audit",
    "verify_chain",
]
