"""Operations: the audit trail (and, later, auth, DORA metrics, incident correlation)."""

from loopline.ops.audit import AuditVerdict, export_audit, verify_audit, verify_chain
from loopline.ops.dora import Change, DoraReport, Incident, Keys, dora_report, summarize

__all__ = [
    "AuditVerdict",
    "Change",
    "DoraReport",
    "Incident",
    "Keys",
    "dora_report",
    "export_audit",
    "summarize",
    "verify_audit",
    "verify_chain",
]
