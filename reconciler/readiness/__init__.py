"""Readiness: which declared merchants can sync, and what each is waiting for."""
