"""Hardening: hostile and broken input, injection, determinism and many users at once (issue 6)."""
