"""The console's forms (Flask-WTF: each carries its CSRF token)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    HiddenField,
    PasswordField,
    SelectField,
    StringField,
)
from wtforms.validators import DataRequired, Length, Optional

from security.integrity.access_log import PURPOSES

# break glass (a customer outside one's book) needs an incident reference in X-Reason;
# the console's disclosure forms do not take one, so they do not offer it (the API does)
BREAK_GLASS = "emergency_access"


def purpose_choices(blank: bool = True, *, disclose: bool = True) -> list[tuple[str, str]]:
    """The purposes a form offers: to disclose (break glass left to the API), or every
    purpose (an access-log filter: `disclose=False`)."""
    choices = [("", str(_l("— no purpose (masked) —")))] if blank else []
    offered = [p for p in PURPOSES if not (disclose and p == BREAK_GLASS)]
    return choices + [(purpose, purpose) for purpose in offered]


class SignInForm(FlaskForm):
    token = PasswordField(_l("Token"), validators=[DataRequired(), Length(max=4096)])


class ActionForm(FlaskForm):
    """A form with nothing but its CSRF token (sign-out, verify now)."""


class LanguageForm(FlaskForm):
    lang = HiddenField(validators=[DataRequired()])
    next = HiddenField()


class SearchForm(FlaskForm):
    name = StringField(_l("Name"), validators=[Optional(), Length(max=200)])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=200)])
    id_number = StringField(_l("ID number"), validators=[Optional(), Length(max=200)])
    branch = StringField(_l("Branch"), validators=[Optional(), Length(max=200)])
    purpose = SelectField(_l("Purpose"), validate_choice=True)


class DisclosureForm(FlaskForm):
    purpose = SelectField(_l("Purpose"), validate_choice=True)
    as_of = DateTimeLocalField(_l("As of"), validators=[Optional()], format="%Y-%m-%dT%H:%M")


class ExportForm(FlaskForm):
    customers = StringField(_l("Customers (ids, comma-separated)"), validators=[Length(max=4000)])
    since = DateTimeLocalField(_l("Since"), validators=[Optional()], format="%Y-%m-%dT%H:%M")
    until = DateTimeLocalField(_l("Until"), validators=[Optional()], format="%Y-%m-%dT%H:%M")
    everything = BooleanField(_l("Everything"))
    addressed_to = StringField(_l("Addressed to (regulator)"), validators=[Length(max=100)])
    reason = StringField(_l("Reason"), validators=[Length(max=500)])


class DownloadForm(FlaskForm):
    purpose = SelectField(_l("Purpose"), validate_choice=True)
