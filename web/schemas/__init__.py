"""Marshmallow schemas of the REST API: the only place request and response shapes live."""
