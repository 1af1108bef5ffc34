"""The scheduler's configuration: each job's trigger, and the numbers the jobs use.

Defaults are overridden by a JSON file (`LEDGER_SCHEDULER_FILE`), then by environment
variables; anything unrecognised is refused, so a typo cannot leave a default in force:

```json
{"timezone": "Asia/Shanghai", "unusual_reads_per_hour": 150,
 "jobs": {"reverification": {"cron": "0 1 * * *"}, "grading": {"enabled": false}}}
```

| Variable                                  | File key                 | Default          |
|-------------------------------------------|--------------------------|------------------|
| `LEDGER_JOB_<NAME>_CRON`                  | `jobs.<name>.cron`       | see the registry |
| `LEDGER_JOB_<NAME>_ENABLED`               | `jobs.<name>.enabled`    | `true`           |
| `LEDGER_SCHEDULER_TIMEZONE`               | `timezone`               | `UTC`            |
| `LEDGER_SCHEDULER_UNUSUAL_READS_PER_HOUR` | `unusual_reads_per_hour` | `200`            |
| `LEDGER_SCHEDULER_RETRY_MINUTES`          | `retry_minutes`          | `10`             |
| `LEDGER_SCHEDULER_MAX_ATTEMPTS`           | `max_attempts`           | `3`              |
| `LEDGER_SCHEDULER_MISFIRE_GRACE_SECONDS`  | `misfire_grace_seconds`  | `3600`           |
| `LEDGER_SCHEDULER_WORKERS`                | `workers`                | `4`              |
| `LEDGER_SCHEDULER_ID`                     | `instance_id`            | `scheduler@<host>:<pid>` |

A cron expression has five fields (minute hour day month day-of-week) or six (second
first). Day-of-week must be written with names (`mon-fri`): APScheduler 3 numbers
Monday as 0 where crontab numbers Sunday as 0, so digits there are refused.
"""

from __future__ import annotations

import json
import os
import re
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.cron import CronTrigger

from domain.errors import DomainError

ENV_FILE = "LEDGER_SCHEDULER_FILE"
_JOB_ENV = re.compile(r"^LEDGER_JOB_([A-Z0-9_]+)_(CRON|ENABLED)$")
_NUMBERS = {
    "unusual_reads_per_hour": 200,
    "retry_minutes": 10,
    "max_attempts": 3,
    "misfire_grace_seconds": 3600,
    "workers": 4,
}
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


class SchedulerConfigError(DomainError):
    """The scheduler's configuration names an unknown job or setting, or a bad value."""

    code = "scheduler_config_error"


def _default_instance_id() -> str:
    return f"scheduler@{socket.gethostname()}:{os.getpid()}"


def cron_trigger(expression: str, timezone: str) -> CronTrigger:
    """The APScheduler trigger of a 5- or 6-field cron expression in `timezone`.

    Raises SchedulerConfigError (one line, naming the expression) when it is invalid or
    uses digits for the day of week.
    """
    fields = expression.split()
    if len(fields) not in (5, 6):
        raise SchedulerConfigError(f"cron {expression!r}: expected 5 or 6 fields")
    if any(ch.isdigit() for ch in fields[-1]):
        raise SchedulerConfigError(
            f"cron {expression!r}: write the day of week with names (mon-sun), not digits"
        )
    names: tuple[str, ...] = ("minute", "hour", "day", "month", "day_of_week")
    if len(fields) == 6:
        names = ("second", *names)
    try:
        return CronTrigger(timezone=timezone, **dict(zip(names, fields, strict=True)))
    except (ValueError, TypeError) as exc:
        raise SchedulerConfigError(f"cron {expression!r}: {exc}") from None


@dataclass(frozen=True)
class JobSchedule:
    """When one job runs: a cron expression, unless disabled."""

    cron: str
    enabled: bool = True


@dataclass(frozen=True)
class SchedulerSettings:
    """Validated scheduler configuration (see the module docstring for the keys)."""

    schedules: Mapping[str, JobSchedule]
    timezone: str = "UTC"
    unusual_reads_per_hour: int = 200
    retry_minutes: int = 10
    max_attempts: int = 3
    misfire_grace_seconds: int = 3600
    workers: int = 4
    instance_id: str = field(default_factory=_default_instance_id)

    def trigger(self, job: str) -> CronTrigger:
        """The trigger of `job` in the configured time zone."""
        return cron_trigger(self.schedules[job].cron, self.timezone)

    def enabled(self) -> list[str]:
        """Names of the enabled jobs, in registry order."""
        return [name for name, schedule in self.schedules.items() if schedule.enabled]


def _read_file(path: str) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except OSError as exc:
        message = f"scheduler file {path!r} cannot be read: {exc.strerror}"
        raise SchedulerConfigError(message) from None
    except json.JSONDecodeError as exc:
        message = f"scheduler file {path!r} is not valid JSON: {exc.msg}"
        raise SchedulerConfigError(message) from None
    if not isinstance(data, dict):
        raise SchedulerConfigError(f"scheduler file {path!r} must hold a JSON object")
    return data


def _flag(name: str, raw: object) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in _TRUE | _FALSE:
        return text in _TRUE
    raise SchedulerConfigError(f"{name} must be true or false, got {raw!r}")


def _number(name: str, raw: object) -> int:
    try:
        value = int(str(raw).strip()) if not isinstance(raw, bool) else -1
    except ValueError:
        value = -1
    if value < 1:
        raise SchedulerConfigError(f"{name} must be a whole number of at least 1, got {raw!r}")
    return value


def load_scheduler_settings(
    default_crons: Mapping[str, str],
    env: Mapping[str, str],
    path: str | None = None,
) -> SchedulerSettings:
    """Defaults (`default_crons` per job, in registry order), then the file, then env vars.

    `env` is the scheduler's section of the settings read once by the composition root
    (`Settings.scheduler_env`: the `LEDGER_SCHEDULER_*` and `LEDGER_JOB_*` variables).

    Guarantees: every job of `default_crons` has a schedule whose cron expression parses
    in the configured time zone; an unknown job, key or a bad value raises
    SchedulerConfigError whose one-line message names it.
    """
    environ: Mapping[str, str] = env
    crons = dict(default_crons)
    enabled = dict.fromkeys(default_crons, True)
    values: dict[str, Any] = dict(_NUMBERS)
    values["timezone"] = "UTC"
    values["instance_id"] = None
    file_path = path if path is not None else environ.get(ENV_FILE)
    if file_path:
        data = _read_file(file_path)
        for key, raw in data.items():
            if key == "jobs":
                if not isinstance(raw, dict):
                    raise SchedulerConfigError("scheduler file: 'jobs' must be an object")
                for job, options in raw.items():
                    if job not in crons or not isinstance(options, dict):
                        raise SchedulerConfigError(f"scheduler file: unknown job {job!r}")
                    for option, value in options.items():
                        if option == "cron":
                            crons[job] = str(value)
                        elif option == "enabled":
                            enabled[job] = _flag(f"jobs.{job}.enabled", value)
                        else:
                            raise SchedulerConfigError(
                                f"scheduler file: unknown option {option!r} of job {job!r}"
                            )
            elif key in values:
                values[key] = raw
            else:
                raise SchedulerConfigError(f"scheduler file: unknown key {key!r}")
    for env_key, raw in environ.items():
        if env_key.startswith("LEDGER_JOB_"):
            match = _JOB_ENV.match(env_key)
            job = match.group(1).lower() if match else ""
            if match is None or job not in crons:
                raise SchedulerConfigError(f"unknown job variable {env_key!r}")
            if match.group(2) == "CRON":
                crons[job] = raw
            else:
                enabled[job] = _flag(env_key, raw)
        elif env_key.startswith("LEDGER_SCHEDULER_") and env_key != ENV_FILE:
            key = env_key[len("LEDGER_SCHEDULER_") :].lower()
            key = "instance_id" if key == "id" else key
            if key not in values or (key == "instance_id" and env_key != "LEDGER_SCHEDULER_ID"):
                raise SchedulerConfigError(f"unknown scheduler variable {env_key!r}")
            values[key] = raw
    timezone = str(values.pop("timezone")).strip()
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise SchedulerConfigError(f"unknown time zone {timezone!r}") from None
    numbers = {name: _number(name, values[name]) for name in _NUMBERS}
    schedules = {job: JobSchedule(crons[job].strip(), enabled[job]) for job in default_crons}
    for job, schedule in schedules.items():
        try:
            cron_trigger(schedule.cron, timezone)
        except SchedulerConfigError as exc:
            raise SchedulerConfigError(f"job {job!r}: {exc.message}") from None
    instance = str(values["instance_id"] or "").strip() or _default_instance_id()
    return SchedulerSettings(
        schedules=schedules, timezone=timezone, instance_id=instance[:100], **numbers
    )
