"""Scheduler configuration: defaults, a JSON file, env vars; anything unknown is refused."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from scheduler.config import SchedulerConfigError, cron_trigger, load_scheduler_settings
from scheduler.registry import DEFAULT_CRONS, JOBS, UnknownJob, job

pytestmark = pytest.mark.unit


def test_every_job_has_its_documented_default_trigger() -> None:
    settings = load_scheduler_settings(DEFAULT_CRONS, env={})
    crons = {name: s.cron for name, s in settings.schedules.items()}
    assert crons == {
        "reverification": "0 1 * * *",
        "security_checks": "5 * * * *",
        "integrity_full": "20 3 * * *",
        "performance_monthly": "0 3 1 * *",
        "performance_quarterly": "30 3 1 1,4,7,10 *",
        "grading": "0 4 1 1,4,7,10 *",
        "value_churn": "0 2 * * *",
        "complaint_sla": "*/15 * * * *",
        "relationship_care": "0 8 * * *",
        "surveys": "0 9 2 1,4,7,10 *",
        "holiday_greetings": "30 8 * * *",
        "quality_reviews": "45 8 * * *",
        "retention": "30 2 * * *",
    }
    assert settings.enabled() == [spec.name for spec in JOBS]
    assert (settings.timezone, settings.unusual_reads_per_hour) == ("UTC", 200)


def test_the_file_then_env_vars_override_the_defaults(tmp_path: Path) -> None:
    path = tmp_path / "scheduler.json"
    path.write_text(
        json.dumps(
            {
                "timezone": "Asia/Shanghai",
                "unusual_reads_per_hour": 150,
                "jobs": {"grading": {"enabled": False}, "retention": {"cron": "0 3 * * *"}},
            }
        )
    )
    settings = load_scheduler_settings(
        DEFAULT_CRONS,
        env={
            "LEDGER_SCHEDULER_FILE": str(path),
            "LEDGER_JOB_RETENTION_CRON": "45 4 * * *",
            "LEDGER_SCHEDULER_UNUSUAL_READS_PER_HOUR": "90",
            "LEDGER_SCHEDULER_ID": "sched-a",
        },
    )
    assert settings.timezone == "Asia/Shanghai"
    assert settings.schedules["retention"].cron == "45 4 * * *"
    assert not settings.schedules["grading"].enabled
    assert "grading" not in settings.enabled()
    assert (settings.unusual_reads_per_hour, settings.instance_id) == (90, "sched-a")
    fire = settings.trigger("retention").get_next_fire_time(None, datetime(2026, 3, 2, tzinfo=UTC))
    assert fire is not None and fire.astimezone(UTC) == datetime(2026, 3, 2, 20, 45, tzinfo=UTC)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"LEDGER_JOB_GRADNIG_CRON": "0 1 * * *"}, "LEDGER_JOB_GRADNIG_CRON"),
        ({"LEDGER_JOB_GRADING_CRON": "61 * * * *"}, "'grading'"),
        ({"LEDGER_JOB_GRADING_CRON": "0 1 * * 1"}, "names"),
        ({"LEDGER_JOB_GRADING_ENABLED": "perhaps"}, "true or false"),
        ({"LEDGER_SCHEDULER_TIMEZONE": "Mars/Olympus"}, "Mars/Olympus"),
        ({"LEDGER_SCHEDULER_WORKERS": "0"}, "workers"),
        ({"LEDGER_SCHEDULER_COLOUR": "blue"}, "LEDGER_SCHEDULER_COLOUR"),
    ],
)
def test_an_unknown_or_bad_setting_is_refused_with_one_line(
    env: dict[str, str], message: str
) -> None:
    with pytest.raises(SchedulerConfigError, match=message) as caught:
        load_scheduler_settings(DEFAULT_CRONS, env=env)
    assert "\n" not in caught.value.message


def test_an_unknown_job_in_the_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "scheduler.json"
    path.write_text(json.dumps({"jobs": {"backups": {"cron": "0 1 * * *"}}}))
    with pytest.raises(SchedulerConfigError, match="backups"):
        load_scheduler_settings(DEFAULT_CRONS, env={"LEDGER_SCHEDULER_FILE": str(path)})


def test_a_six_field_cron_has_seconds_first() -> None:
    trigger = cron_trigger("*/2 * * * * *", "UTC")
    start = datetime(2026, 3, 2, 9, 0, 1, tzinfo=UTC)
    assert trigger.get_next_fire_time(None, start) == datetime(2026, 3, 2, 9, 0, 2, tzinfo=UTC)


def test_an_unknown_job_name_lists_the_jobs() -> None:
    with pytest.raises(UnknownJob, match="reverification"):
        job("backups")
