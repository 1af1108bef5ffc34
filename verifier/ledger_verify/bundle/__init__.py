"""Offline verification of an audit-trail bundle (docs/export-format.md), and how an
event is rendered into one."""
