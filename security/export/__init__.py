"""Audit-trail export: the bundle writer, the selection of events, their disclosed keys."""
