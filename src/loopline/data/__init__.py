"""Data: fingerprints and profiles of datasets (contracts and validation build on these)."""

from loopline.data._profile import as_frame, fingerprint, profile, schema_of

__all__ = ["as_frame", "fingerprint", "profile", "schema_of"]
