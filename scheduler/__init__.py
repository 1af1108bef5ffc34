"""The scheduler: the policy's calendar of jobs, each period recorded exactly once.

- `registry` — every job: name, period, default trigger, lease; one module per job
  (`reverification`, `security_checks`, `performance`, `grading`, `value_churn`,
  `complaint_sla`, `relationship_care`, `holiday_greetings`, `retention`);
- `runner` — claims a (job, period), runs it, records the outcome; backfill, replay;
- `service` — APScheduler's BlockingScheduler with every job on its trigger;
- `context`, `population`, `kpi_facts` — what jobs work with; `periods`, `clock`,
  `config` — when they run and with which settings.

See docs/scheduler.md. Imports `domain` and `security`, never `web`.
"""
