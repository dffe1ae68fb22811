"""Operations: the audit trail (and, later, auth, DORA metrics, incident correlation)."""

from loopline.ops.audit import AuditVerdict, export_audit, verify_audit, verify_chain

__all__ = ["AuditVerdict", "export_audit", "verify_audit", "verify_chain"]
