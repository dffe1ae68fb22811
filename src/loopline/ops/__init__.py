"""Operations: the audit trail, roles and API tokens, DORA metrics.

Exports load lazily: the store imports `ops._roles` for its permission checks, and the
audit and DORA modules import the store, so an eager import here would be circular.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from loopline.ops._roles import ROLES, Principal, acting_as, authorize, permission_matrix
    from loopline.ops._tokens import authenticate, create_token, revoke_token
    from loopline.ops.audit import AuditVerdict, export_audit, verify_audit, verify_chain
    from loopline.ops.dora import Change, DoraReport, Incident, Keys, dora_report, summarize

_EXPORTS = {
    "AuditVerdict": "loopline.ops.audit",
    "export_audit": "loopline.ops.audit",
    "verify_audit": "loopline.ops.audit",
    "verify_chain": "loopline.ops.audit",
    "Change": "loopline.ops.dora",
    "DoraReport": "loopline.ops.dora",
    "Incident": "loopline.ops.dora",
    "Keys": "loopline.ops.dora",
    "dora_report": "loopline.ops.dora",
    "summarize": "loopline.ops.dora",
    "Principal": "loopline.ops._roles",
    "ROLES": "loopline.ops._roles",
    "acting_as": "loopline.ops._roles",
    "authorize": "loopline.ops._roles",
    "permission_matrix": "loopline.ops._roles",
    "create_token": "loopline.ops._tokens",
    "authenticate": "loopline.ops._tokens",
    "revoke_token": "loopline.ops._tokens",
}


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'loopline.ops' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)


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
