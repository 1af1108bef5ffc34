"""A small, known world written through the application service: customers with
distinctive personal data, and at least one fact for every view."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from uuid import UUID

from domain.application import LedgerApplication
from domain.services.grading import CreditAssessment
from projections.runtime import ReadModels
from tests.domain.factories import FRONT, RM, SYSTEM, Clock, grant_marketing, quarter_of_trades

NAME = "Wenjing Quillborough"
PHONE = "13912398765"
EMAIL = "quillborough.w@example.cn"
ID_NUMBER = "11010519491231002X"
NARRATIVE = "Teller Ximenez overcharged my Zephyrine account"
EVIDENCE = "signed-form-Vexhollow-77"
TOPIC = "loan for Brackenmoor surgery"  # an interaction's topic is personal text too
SECRETS = (
    NAME,
    "Quillborough",
    PHONE,
    EMAIL,
    ID_NUMBER,
    "Ximenez",
    "Zephyrine",
    "Vexhollow",
    "Brackenmoor",
)


@dataclass(frozen=True)
class World:
    elder: UUID
    corporate: UUID
    plain: UUID
    complaint: UUID
    suggestion: UUID
    survey: UUID


def register(app: LedgerApplication, name: str, phone: str, **profile: object) -> UUID:
    fields: dict[str, object] = {
        "name": name,
        "phone": phone,
        "branch": "BJ-01",
        "relationship_manager": "rm-007",
        **profile,
    }
    return app.register_customer("individual", fields, FRONT)


def populate(app: LedgerApplication, clock: Clock) -> World:
    """Write the world; every command goes through the application's rules."""
    elder = register(
        app,
        NAME,
        PHONE,
        email=EMAIL,
        date_of_birth=date(1949, 12, 31),
        income_band="high",
        risk_preference="balanced",
    )
    app.record_identity_document(elder, "resident_id", ID_NUMBER, date(2035, 1, 1), FRONT)
    app.assign_risk_rating(elder, "high", RM)
    app.classify_customer(elder, FRONT)
    grant_marketing(app, elder)
    app.grant_consent(
        elder,
        "greetings",
        FRONT,
        data_categories=["contact"],
        notice_version="2026.1",
        method="written",
        evidence=EVIDENCE,
    )
    for topic in ("fees", "cards", TOPIC):
        clock.advance(hours=1)
        app.log_interaction(elder, "phone", "inbound", "service", topic, "called about it", FRONT)
    quarter_of_trades(app, elder, date(2025, 9, 1), 12, "90000.00", "q1")
    app.record_credit_assessment(
        CreditAssessment(elder, "internal_scorecard", 90, date(2026, 1, 5)), SYSTEM
    )
    app.grade_customer(elder, "2026Q1", SYSTEM)
    complaint = app.receive_feedback(elder, "complaint", "fees", NARRATIVE, FRONT)
    app.acknowledge_case(complaint, FRONT)
    app.start_investigation(complaint, RM, owner="rm-007")
    corporate = app.register_customer(
        "corporate",
        {
            "name": "Shanghai Bright Logistics Co., Ltd.",
            "credit_code": "91310000MA1FL3LQ2X",
            "legal_representative": "李强",
            "company_size": "medium",
            "industry": "logistics",
            "stage": "growth",
            "phone": "02155551234",
            "branch": "SH-02",
        },
        FRONT,
    )
    app.classify_customer(corporate, FRONT)
    plain = register(app, "Plain Person", "13800001111", branch="SH-02")
    suggestion = app.receive_feedback(plain, "suggestion", "service", "more branches", FRONT)
    survey = app.send_survey(plain, "CSAT", FRONT)
    clock.advance(hours=2)
    app.answer_survey(survey, 5, FRONT)
    return World(elder, corporate, plain, complaint, suggestion, survey)


def dump(models: ReadModels) -> dict[str, list[dict[str, object]]]:
    """Every row of every live view table, in key order, blobs as bytes."""
    tables: dict[str, list[dict[str, object]]] = {}
    for projection in models.projections:
        for table in projection.tables:
            rows = models.store.dump(table.name, table.key)
            tables[table.name] = [
                {k: bytes(v) if isinstance(v, memoryview) else v for k, v in row.items()}
                for row in rows
            ]
    return tables


def rows_of(models: ReadModels, table: str, **where: object) -> list[dict[str, object]]:
    """The rows of a live view table matching `where`."""
    clause = " AND ".join(f"{column}=?" for column in where)
    statement = f"SELECT * FROM {models.store.table(table)}" + (f" WHERE {clause}" if where else "")
    return models.store.rows(statement, list(where.values()))
