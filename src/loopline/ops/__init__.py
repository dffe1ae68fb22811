"""Operations: the audit trail, API tokens, DORA metrics, the role table for people.

The role rules themselves (`ROLES`, `Principal`, `acting_as`, `authorize`) live in
`loopline.identity` (core layer), because the store below this package enforces them:
import them from there. Each public name is listed by one package (tests/test_public_names.py).
"""

from __future__ import annotations

from loopline.ops._roles import permission_matrix
from loopline.ops._tokens import authenticate, create_token, revoke_token
from loopline.ops.audit import AuditVerdict, export_audit, verify_audit, verify_chain
from loopline.ops.dora import Change, DoraReport, Incident, Keys, dora_report, summarize

__all__ = [
    "AuditVerdict",
    "Change",
    "DoraReport",
    "Incident",
    "Keys",
    "authenticate",
    "create_token",
    "dora_report",
    "export_audit",
    "permission_matrix",
    "revoke_token",
    "summarize",
    "verify_audit",
    "verify_chain",
]
