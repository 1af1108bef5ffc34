"""The console's pages. Each asks the REST API in process as the signed-in user
(web/console/_api.py); nothing here reads personal data another way."""

from __future__ import annotations

import csv
import functools
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar
from uuid import UUID

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import format_datetime, get_locale
from flask_babel import get_timezone as babel_timezone
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from markupsafe import Markup

import web.console._api as _api
from web.auth import Principal, decode_token
from web.console._extensions import CONSOLE_CSP, LANGUAGES, PREFIX, csrf
from web.console._sources import customer_timeline
from web.console.charts import Point, bar_chart
from web.console.forms import (
    ActionForm,
    DisclosureForm,
    DownloadForm,
    ExportForm,
    LanguageForm,
    SearchForm,
    SignInForm,
    purpose_choices,
)
from web.context import get_ledger, token_settings
from web.errors import Unauthenticated

bp = Blueprint(
    "console",
    __name__,
    url_prefix=PREFIX,
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)
F = TypeVar("F", bound=Callable[..., Any])
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# the roles that may run a verification from the integrity page (no API endpoint runs it)
VERIFIERS = frozenset({"compliance_officer", "security_officer", "regulator"})
DUE_SOON_SECONDS = 24 * 3600
# each chart: the API's key, its caption, its unit (the y axis's label); the rates are
# the API's shares in 0..1 (domain/rules/kpis.py), NPS its points in -100..100
KPI_CHARTS = (
    ("nps", _l("Net Promoter Score"), _l("points (-100 to 100)")),
    ("csat", _l("Customer satisfaction"), _l("share of answers 4-5 (0-1)")),
    ("complaint_sla", _l("Complaints resolved on time"), _l("share of complaints resolved (0-1)")),
    ("retention_rate", _l("Retention rate"), _l("share of customers at start (0-1)")),
    ("churn_rate", _l("Churn rate"), _l("share of customers at start (0-1)")),
)


# --- session, CSRF, headers -----------------------------------------------------------


@bp.before_request
def check_csrf() -> None:
    """Every state-changing request of the console carries the form's CSRF token."""
    if request.method in UNSAFE:
        csrf.protect()


@bp.after_request
def console_headers(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CONSOLE_CSP
    response.headers["Cache-Control"] = "no-store"
    response.headers["Vary"] = "Cookie, Accept-Language"
    return response


@bp.errorhandler(CSRFError)
def csrf_refused(error: CSRFError) -> tuple[str, int]:
    return render_template(
        "console/error.html",
        title=_("Form refused"),
        message=_("The form was refused: it did not carry this console's CSRF token."),
    ), 400


def signed_in_principal() -> Principal | None:
    """Who the session's token names; None without a valid, unexpired one."""
    token = session.get(_api.TOKEN_KEY)
    if not token:
        return None
    try:
        return decode_token(token_settings(), str(token))
    except Unauthenticated:
        session.pop(_api.TOKEN_KEY, None)
        return None


def signed_in(view: F) -> F:
    """Pages for a signed-in user only: others go to the sign-in page."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        principal = signed_in_principal()
        if principal is None:
            return redirect(url_for("console.sign_in"))
        g.console_user = principal
        g.principal = principal  # named on the page's request log line, as the API's are
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


@bp.app_template_filter("when")
def when(value: str | None) -> str:
    """An ISO 8601 time from the API in the firm's time zone and the user's language."""
    if not value:
        return "—"
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return str(format_datetime(moment, "yyyy-MM-dd HH:mm:ss zzz"))


@bp.context_processor
def common() -> dict[str, Any]:
    return {
        "user": getattr(g, "console_user", None),
        "languages": LANGUAGES,
        "locale": str(get_locale()),
        "html_lang": "zh-CN" if str(get_locale()).startswith("zh") else "en",
        "timezone": str(babel_timezone()),
        "action_form": ActionForm(),
        "language_form": LanguageForm(),
    }


def caught_up(query: dict[str, Any]) -> dict[str, Any]:
    """A views query that waits until the views reflect every event stored before this
    page (read-your-writes: a change made a moment ago shows), as the API's
    `min_position`; views that lag past the wait are the API's 503 problem."""
    return {**query, "min_position": int(get_ledger().app.recorder.max_notification_id() or 0)}


# --- sign-in, sign-out, language --------------------------------------------------------


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in() -> Any:
    """Sign in with a token from `ledger token issue` (development)."""
    form = SignInForm()
    error = None
    if form.validate_on_submit():
        token = form.token.data.strip()
        try:
            decode_token(token_settings(), token)
        except Unauthenticated as exc:
            error = str(exc)
        else:
            lang = session.get("lang")
            session.clear()  # a fresh session for the new user (and a new CSRF token)
            session[_api.TOKEN_KEY] = token
            if lang in LANGUAGES:
                session["lang"] = lang
            return redirect(url_for("console.home"))
    elif form.is_submitted():
        error = _("Paste a token.")
    status = 401 if error else 200
    return render_template("console/sign_in.html", form=form, error=error), status


@bp.post("/sign-out")
def sign_out() -> Any:
    lang = session.get("lang")
    session.clear()
    if lang in LANGUAGES:
        session["lang"] = lang
    flash(_("You are signed out."))
    return redirect(url_for("console.sign_in"))


@bp.post("/language")
def language() -> Any:
    form = LanguageForm()
    if form.validate_on_submit() and form.lang.data in LANGUAGES:
        session["lang"] = form.lang.data
    target = form.next.data or url_for("console.home")
    if not target.startswith(PREFIX + "/") and target != PREFIX:
        target = url_for("console.home")
    return redirect(target)


@bp.get("/")
@signed_in
def home() -> Any:
    return render_template("console/home.html")


# --- customers ------------------------------------------------------------------------


@bp.route("/customers", methods=["GET", "POST"])
@signed_in
def customers() -> Any:
    """Search: by branch with no purpose; by name, phone or ID number with one (the
    API demands it, logs the search and limits it). A POST, so identifiers never
    appear in a URL, a browser history or a request log."""
    form = SearchForm()
    form.purpose.choices = purpose_choices()
    results: list[dict[str, Any]] = []
    problem = None
    searched = False
    if form.validate_on_submit():
        searched = True
        purpose = form.purpose.data or None
        query = {
            "name": form.name.data,
            "phone": form.phone.data,
            "id_number": form.id_number.data,
            "branch": form.branch.data,
            "limit": 20,
        }
        answer = _api.get("/views/customers", purpose=purpose, query=caught_up(query))
        if answer.ok:
            results = answer.body["items"]
            if purpose:
                results = [shown_with_purpose(item, purpose) for item in results[:10]]
        else:
            problem = answer.problem
    return render_template(
        "console/customers.html", form=form, results=results, problem=problem, searched=searched
    )


def shown_with_purpose(item: dict[str, Any], purpose: str) -> dict[str, Any]:
    """A search hit with its profile read for `purpose` (a disclosure the API logs)."""
    answer = _api.get(f"/customers/{item['customer_id']}", purpose=purpose)
    if answer.ok:
        return {**item, "profile": answer.body}
    return {**item, "problem": answer.problem}


@bp.route("/customers/<uuid:customer_id>", methods=["GET", "POST"])
@signed_in
def customer(customer_id: UUID) -> Any:
    """The customer: masked on GET; on POST with a purpose, in full (access-logged by
    the API). `as_of` shows the profile as it was then (in the firm's time zone)."""
    form = DisclosureForm()
    form.purpose.choices = purpose_choices()
    purpose = None
    as_of = None
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        purpose = form.purpose.data or None
        if form.as_of.data is not None:
            as_of = in_firm_zone(form.as_of.data)
    return render_template(
        "console/customer.html",
        form=form,
        customer_id=customer_id,
        purpose=purpose,
        as_of=as_of,
        **customer_sections(customer_id, purpose, as_of),
    )


def customer_sections(
    customer_id: UUID, purpose: str | None, as_of: datetime | None
) -> dict[str, Any]:
    """Every section of the customer page, each an API answer."""
    if as_of is None:
        profile = _api.get(f"/customers/{customer_id}", purpose=purpose)
    else:
        profile = _api.get(
            f"/customers/{customer_id}/history",
            purpose=purpose,
            query={"as_of": as_of.astimezone(UTC).isoformat()},
        )
    base = f"/customers/{customer_id}"
    return {
        "profile": profile,
        "overview": _api.get(
            f"/views/customers/{customer_id}", purpose=purpose, query=caught_up({})
        ),
        "consents": _api.get(f"{base}/consents", purpose=purpose),
        "grade": _api.get(f"{base}/grade", purpose=purpose),
        "erasure": _api.get(f"{base}/erasure", purpose=purpose),
        "timeline": customer_timeline(customer_id, purpose, as_of),
    }


# --- access log -----------------------------------------------------------------------

ACCESS_COLUMNS = ("id", "recorded_at", "actor_id", "role", "purpose", "subject_id", "what")
ACCESS_PAGE = 100  # entries on a page of the access-log page
CSV_PAGE, CSV_MAX = 1000, 100_000  # the CSV walks the API's pages, up to CSV_MAX entries


@dataclass(frozen=True)
class AccessPage:
    entries: list[dict[str, Any]]
    problem: str | None = None
    next_offset: int | None = None
    status: int = 200  # the API's status when it refused (422 for bad filters, 403 ...)


def access_page(offset: int, limit: int) -> AccessPage:
    """A page of the access log, newest first, for the filters of the query string;
    every filter is the API's (actor, subject, purpose, [since, until)), the times read
    in the firm's time zone."""
    args = request.args
    since = local_moment(args.get("since"))
    until = local_moment(args.get("until"))
    answer = _api.get(
        "/access-log",
        query={
            "actor": args.get("actor"),
            "subject": args.get("subject"),
            "purpose": args.get("purpose"),
            "since": since.isoformat() if since else None,
            "until": until.isoformat() if until else None,
            "limit": limit,
            "offset": offset,
        },
    )
    if not answer.ok:
        return AccessPage([], answer.problem, status=answer.status)
    return AccessPage(answer.body["entries"], None, answer.body["next_offset"])


def local_moment(value: str | None) -> datetime | None:
    """A datetime-local field's value, in the firm's time zone; None if empty or bad."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else in_firm_zone(moment)


def in_firm_zone(moment: datetime) -> datetime:
    """A naive time read as a time in the firm's time zone."""
    zone = babel_timezone()
    localize = getattr(zone, "localize", None)  # pytz zones; zoneinfo ones take replace
    return localize(moment) if localize is not None else moment.replace(tzinfo=zone)


@bp.get("/access-log")
@signed_in
def access_log() -> Any:
    offset_number = page_offset()
    page = access_page(offset_number, ACCESS_PAGE)
    filters = {key: value for key, value in request.args.items() if key != "offset" and value}
    return render_template(
        "console/access_log.html",
        entries=page.entries,
        problem=page.problem,
        purposes=purpose_choices(blank=False, disclose=False),
        args=request.args,
        filters=filters,
        offset=offset_number,
        next_offset=page.next_offset,
        previous_offset=max(offset_number - ACCESS_PAGE, 0) if offset_number else None,
    )


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: Any) -> Any:
    """A cell a spreadsheet shows as text: one starting like a formula (an actor id is
    any text a token names) gets a leading apostrophe (OWASP's CSV injection advice)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


@bp.get("/access-log.csv")
@signed_in
def access_log_csv() -> Any:
    """Every entry that matches the filters (walking the API's pages), up to CSV_MAX:
    more is refused with a word to narrow the filters, never silently cut."""
    entries: list[dict[str, Any]] = []
    offset: int | None = 0
    while offset is not None:
        page = access_page(offset, CSV_PAGE)
        if page.problem is not None:
            return render_template(
                "console/error.html", title=_("Access log"), message=page.problem
            ), page.status
        entries.extend(page.entries)
        offset = page.next_offset
        if offset is not None and len(entries) >= CSV_MAX:
            message = _("More than %(n)s entries match: narrow the filters.", n=CSV_MAX)
            return render_template(
                "console/error.html", title=_("Access log"), message=message
            ), 400
    out = io.StringIO()
    writer = csv.DictWriter(out, ACCESS_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    for entry in entries:
        writer.writerow({key: spreadsheet_safe(value) for key, value in entry.items()})
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="access-log.csv"'},
    )


# --- complaints board -----------------------------------------------------------------


def sla_state(case: dict[str, Any]) -> str:
    """overdue (red), due-soon (within a day: amber), on-time (green), no-deadline."""
    if case.get("overdue"):
        return "overdue"
    left = case.get("seconds_left")
    if left is None:
        return "no-deadline"
    return "due-soon" if left <= DUE_SOON_SECONDS else "on-time"


@bp.get("/complaints")
@signed_in
def complaints() -> Any:
    answer = _api.get("/views/complaints", query=caught_up({"limit": 200}))
    cases = answer.body["items"] if answer.ok else []
    for case in cases:
        case["sla"] = sla_state(case)
    return render_template(
        "console/complaints.html", cases=cases, problem=None if answer.ok else answer.problem
    )


# --- crisis register (policy 7.3) and complaint analysis (policy 1.2) -----------------

CRISIS_PAGE = 50


def page_offset() -> int:
    """The `offset` of the query string (a page of a listing); 0 if absent or bad."""
    raw = request.args.get("offset", "0")
    return int(raw) if raw.isdigit() else 0


def pages(answer: _api.Answer, offset: int) -> dict[str, int | None]:
    """The offsets of the previous and next pages of a views listing (None: none)."""
    if not answer.ok:
        return {"previous": None, "next": None}
    limit, total = int(answer.body["limit"]), int(answer.body["total"])
    return {
        "previous": max(offset - limit, 0) if offset else None,
        "next": offset + limit if offset + limit < total else None,
    }


@bp.get("/crises")
@signed_in
def crises() -> Any:
    """The crisis register (`GET /views/crises`): each crisis with its affected and
    contacted customers and the 24-hour first-contact deadline, overdue ones marked."""
    offset = page_offset()
    filters = {key: request.args.get(key) or None for key in ("state", "severity")}
    query = {**filters, "limit": CRISIS_PAGE, "offset": offset}
    answer = _api.get("/views/crises", query=caught_up(query))
    return render_template(
        "console/crises.html",
        answer=answer,
        rows=answer.body["items"] if answer.ok else [],
        filters=filters,
        shown={key: value for key, value in filters.items() if value},
        pages=pages(answer, offset),
    )


@bp.get("/crises/<uuid:crisis_id>")
@signed_in
def crisis_contacts(crisis_id: UUID) -> Any:
    """The customers a crisis affected (`GET /views/crises/{id}/contacts`): first
    contact, channel, in time or not, and the evidence of each contact."""
    offset = page_offset()
    contacted = request.args.get("contacted") or None
    if contacted not in (None, "true", "false"):
        contacted = None
    query = {"contacted": contacted, "limit": CRISIS_PAGE, "offset": offset}
    answer = _api.get(f"/views/crises/{crisis_id}/contacts", query=caught_up(query))
    return render_template(
        "console/crisis.html",
        crisis_id=crisis_id,
        answer=answer,
        rows=answer.body["items"] if answer.ok else [],
        contacted=contacted,
        shown={"contacted": contacted} if contacted else {},
        pages=pages(answer, offset),
    )


CASE_KINDS = ("complaint", "suggestion", "praise", "enquiry")
BREAKDOWNS = (
    ("by_product", _l("By product")),
    ("by_channel", _l("By channel")),
    ("by_category", _l("By category")),
    ("root_causes", _l("Root causes of those resolved")),
)


@bp.get("/complaints/analysis")
@signed_in
def complaint_analysis() -> Any:
    """The analysis of feedback (`GET /views/complaints/analysis`), per month: cases of
    a kind received by product, channel and category; resolved, in time, at first
    contact, and their root causes."""
    today = get_ledger().app.now().astimezone(babel_timezone())
    query = {
        "from": request.args.get("from") or f"{today.year:04d}-01",
        "to": request.args.get("to") or f"{today.year:04d}-{today.month:02d}",
        "kind": request.args.get("kind") or "complaint",
        "branch": request.args.get("branch") or None,
    }
    answer = _api.get("/views/complaints/analysis", query=caught_up(query))
    rows = answer.body["items"] if answer.ok else []
    totals = {
        key: sum(int(row[key]) for row in rows)
        for key in ("received", "resolved", "in_time", "first_contact")
    }
    return render_template(
        "console/complaint_analysis.html",
        answer=answer,
        rows=rows,
        totals=totals,
        query=query,
        kinds=CASE_KINDS,
        breakdowns=BREAKDOWNS,
    )


# --- KPIs -----------------------------------------------------------------------------


@bp.get("/kpis")
@signed_in
def kpis() -> Any:
    """The KPI table of /api/v1/views/kpis for a span of months, charted; and the latest
    evaluation of a period (/api/v1/evaluations)."""
    today = get_ledger().app.now().astimezone(babel_timezone())
    last = request.args.get("to") or f"{today.year:04d}-{today.month:02d}"
    first = request.args.get("from") or f"{today.year - 1:04d}-{today.month:02d}"
    by = request.args.get("by", "overall")
    branch = request.args.get("branch") or None
    query = {"from": first, "to": last, "by": by, "branch": branch}
    table = _api.get("/views/kpis", query=caught_up(query))
    rows = table.body["items"] if table.ok else []
    charts = []
    if rows and by == "overall":
        for key, title, unit in KPI_CHARTS:
            points = [Point(row["period"], row.get(key)) for row in rows]
            svg = bar_chart(
                str(title), points, chart_id=f"chart-{key}", unit=str(unit), x_label=_("Month")
            )
            charts.append(
                {"key": key, "title": title, "unit": unit, "svg": Markup(svg)}  # noqa: S704
            )
    watch = _api.get("/views/churn-watch", query=caught_up({"limit": 1}))
    period = request.args.get("period") or last
    evaluation = _api.get("/evaluations", query={"period": period, "scope": "overall"})
    return render_template(
        "console/kpis.html",
        table=table,
        rows=rows,
        charts=charts,
        watch=watch,
        evaluation=evaluation,
        period=period,
        query=query,
    )


# --- integrity ------------------------------------------------------------------------


def parse_note(note: str) -> dict[str, Any]:
    """A signed note's origin, size, root and signature lines (key name, first bytes)."""
    body, _sep, signatures = note.partition("\n\n")
    lines = body.split("\n")
    signers = [
        line.split(" ")[1]
        for line in signatures.splitlines()
        if line.startswith("\u2014 ") and len(line.split(" ")) >= 3
    ]
    return {
        "origin": lines[0] if lines else "",
        "size": lines[1] if len(lines) > 1 else "",
        "root": lines[2] if len(lines) > 2 else "",
        "signers": signers,
    }


def last_full_verification() -> dict[str, Any] | None:
    """The last run of the scheduled full verification (`integrity_full`, every leaf of
    both logs recomputed), as the page shows it: when, its state, what it verified and
    whether it failed (it signs no checkpoint then, and says so in its summary)."""
    from scheduler.config import SchedulerConfigError

    try:
        run = job_runner().last_run("integrity_full")
    except SchedulerConfigError:  # the jobs page says why
        return None
    if run is None:
        return None
    notes = {key: str(value) for key, value in run.summary.items() if not isinstance(value, int)}
    refused = any(
        value.startswith("not signed")
        for key, value in notes.items()
        if key.endswith("_checkpoint")
    )
    return {
        "period": run.period,
        "state": run.state,
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "error": run.error,
        "ok": run.state == "completed" and not refused,
        "notes": sorted(notes.items()),
    }


def anchor_status() -> dict[str, Any]:
    """The anchor file and the newest checkpoint of the event log anchored in it."""
    ledger = get_ledger()
    status: dict[str, Any] = {"path": str(ledger.config.anchor_file), "size": None, "error": None}
    try:
        ours = [c for c in ledger.anchors.checkpoints() if c.origin == ledger.sealed_log.origin]
    except Exception as exc:  # an unreadable or damaged anchor file: say so, never a 500
        status["error"] = type(exc).__name__
        return status
    status["size"] = ours[-1].size if ours else None
    return status


@bp.route("/integrity", methods=["GET", "POST"])
@signed_in
def integrity() -> Any:
    """The latest checkpoint and its cosignatures, the seal lag, the last verification
    and the inclusion proof of a seq.

    "Verify now" is `ledger verify` (incremental: what was added since the last verified
    state, plus the store still holding the verified log), so its cost in the request
    is that of the new events, not of the store; the full recomputation is the
    scheduled `integrity_full` job's, whose last result the page shows beside it."""
    ledger = get_ledger()
    if request.method == "POST":
        if not g.console_user.has_any(VERIFIERS):
            abort(403)
        report = ledger.verify_all(full=False)
        current_app.extensions["console_last_verify"] = {
            "at": datetime.now(UTC).isoformat(),
            "ok": report.ok,
            "mode": report.event_log.describe(),
            "text": report.summary() if report.ok else report.failure(),
            "problems": [problem.message for problem in report.problems][:20],
            "by": g.console_user.actor_id,
        }
        return redirect(url_for("console.integrity"))
    checkpoint = _api.get("/integrity/checkpoint")
    note = parse_note(checkpoint.text) if checkpoint.ok else None
    sealed, checkpoint_size = ledger.sealed_log.sizes()
    stored = int(ledger.app.recorder.max_notification_id() or 0)
    proof = None
    seq = request.args.get("seq")
    if seq:
        proof = _api.get("/integrity/proof", query={"seq": seq})
    return render_template(
        "console/integrity.html",
        anchors=anchor_status(),
        witnesses=[(w.cosigner.name, w.url) for w in ledger.config.witnesses],
        missing=ledger.missing_cosignatures() if ledger.config.witnesses else [],
        scheduled=last_full_verification(),
        checkpoint=checkpoint,
        note=note,
        sealed=sealed,
        checkpoint_size=checkpoint_size,
        stored=stored,
        last=current_app.extensions.get("console_last_verify"),
        proof=proof,
        seq=seq,
        may_verify=g.console_user.has_any(VERIFIERS),
    )


# --- exports --------------------------------------------------------------------------


@bp.route("/exports", methods=["GET", "POST"])
@signed_in
def exports() -> Any:
    """Request an export (four eyes for everything or one addressed to no regulator:
    the API keeps it pending until another compliance officer approves), list them,
    approve, download."""
    form = ExportForm()
    download = DownloadForm()
    download.purpose.choices = purpose_choices()
    problem = None
    if form.validate_on_submit():
        body = {
            "customers": [c.strip() for c in (form.customers.data or "").split(",") if c.strip()],
            "since": in_firm_zone(form.since.data).isoformat() if form.since.data else None,
            "until": in_firm_zone(form.until.data).isoformat() if form.until.data else None,
            "all": bool(form.everything.data),
            "addressed_to": form.addressed_to.data or None,
            "reason": form.reason.data or None,
        }
        answer = _api.call("POST", "/exports", json=body)
        if answer.ok:
            flash(_("Export %(id)s requested: %(status)s.", id=answer.body["id"],
                    status=answer.body["status"]))  # fmt: skip
            return redirect(url_for("console.exports"))
        problem = answer.problem
    listing = _api.get("/exports")
    return render_template(
        "console/exports.html", form=form, download=download, listing=listing, problem=problem
    )


@bp.post("/exports/<uuid:export_id>/approval")
@signed_in
def approve_export(export_id: UUID) -> Any:
    answer = _api.call("POST", f"/exports/{export_id}/approval")
    if answer.ok:
        flash(_("Export %(id)s approved: %(status)s.", id=export_id, status=answer.body["status"]))
    else:
        flash(answer.problem)
    return redirect(url_for("console.exports"))


@bp.post("/exports/<uuid:export_id>/bundle")
@signed_in
def export_bundle(export_id: UUID) -> Any:
    """The bundle, downloaded through the API (which records it in the access log with
    the purpose stated here)."""
    form = DownloadForm()
    form.purpose.choices = purpose_choices()
    if not form.validate_on_submit():
        abort(400)
    answer = _api.download(f"/exports/{export_id}/bundle", purpose=form.purpose.data or None)
    if answer.status_code != 200:
        answer.close()
        flash(_("The bundle cannot be downloaded (%(status)s).", status=answer.status_code))
        return redirect(url_for("console.exports"))
    return answer


# --- jobs -----------------------------------------------------------------------------


def job_runner() -> Any:
    """A scheduler's job runner over this app's ledger, to read job runs and triggers
    (it runs nothing: `ledger scheduler` does)."""
    from scheduler.clock import JobClock
    from scheduler.config import load_scheduler_settings
    from scheduler.registry import DEFAULT_CRONS
    from scheduler.runner import JobRunner

    ledger = get_ledger()
    settings = load_scheduler_settings(DEFAULT_CRONS, ledger.config.scheduler_env)
    return JobRunner(ledger, JobClock(ledger.app.now), settings)


JOB_READERS = frozenset({"compliance_officer", "security_officer", "system"})


@bp.get("/jobs")
@signed_in
def jobs() -> Any:
    """The scheduled jobs: trigger, last run (state, when, error) and next run, as
    `ledger jobs list` shows them (no personal data: job runs are operations facts)."""
    if not g.console_user.has_any(JOB_READERS):
        return render_template(
            "console/error.html", title=_("Jobs"), message=_("Your role may not see the jobs.")
        ), 403
    from scheduler.config import SchedulerConfigError
    from scheduler.registry import JOBS

    try:
        runner = job_runner()
    except SchedulerConfigError as exc:
        return render_template("console/error.html", title=_("Jobs"), message=exc.message), 503
    settings = runner.settings
    rows = []
    for spec in JOBS:
        schedule = settings.schedules[spec.name]
        last = runner.last_run(spec.name)
        following = runner.next_run(spec.name)
        rows.append(
            {
                "name": spec.name,
                "trigger": schedule.cron if schedule.enabled else None,
                "cadence": spec.cadence.name,
                "last": last,
                "next": following.isoformat() if following else None,
            }
        )
    return render_template("console/jobs.html", rows=rows, timezone_of_jobs=settings.timezone)
