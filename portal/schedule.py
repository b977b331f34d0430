"""Celery beat schedule (imported by portal/celery.py). Times are in CELERY_TIMEZONE (Europe/Brussels)."""

from celery.schedules import crontab

BEAT_SCHEDULE = {
    # Provisioning: re-queue allocations still marked needs_sync (a lost worker's task is run again within
    # 3 minutes: this interval plus the sweeper's 60 s grace); full reconcile reports drift.
    "slurm-sweep-unsynced": {
        "task": "allocations.provisioning.tasks.slurm_sweep_unsynced",
        "schedule": crontab(minute="*/2"),
    },
    "slurm-reconcile-all": {
        "task": "allocations.provisioning.tasks.slurm_reconcile_all",
        "schedule": crontab(minute=40),
    },
    # Usage flows back from sshare; 80 % and 100 % e-mails are sent from the same pull.
    "slurm-pull-usage": {"task": "allocations.provisioning.tasks.slurm_pull_usage", "schedule": crontab(minute=20)},
    # E-mails whose message the broker lost (restart, outage at commit time) are queued again.
    "emails-send-pending": {"task": "portal.tasks.send_pending_emails", "schedule": crontab(minute="*/2")},
    # The audit chain's head goes to the log (logger portal.audit.head), which the operator ships off the
    # machine: a remembered head catches the newest events being deleted (verify_audit_chain --expect-seq).
    "audit-chain-head": {"task": "portal.tasks.log_audit_chain_head", "schedule": crontab(minute="*/10")},
    # Reports left queued while the broker was down are queued again.
    "reports-requeue-stale": {"task": "compliance.tasks.requeue_stale_reports", "schedule": crontab(minute="*/10")},
    # Open allocations whose start date came: hourly, so an acknowledgement in the morning opens the
    # account within the hour.
    "allocations-start-due": {"task": "allocations.grants.tasks.allocations_start_due", "schedule": crontab(minute=5)},
    # Terms of use: a version that came into force or whose grace period ended takes the people who have not
    # accepted it out of the associations (idempotent; hourly, so a version effective today acts within the hour).
    "terms-resync-due": {"task": "allocations.terms.tasks.terms_resync_due", "schedule": crontab(minute=10)},
    "allocations-expire-due": {
        "task": "allocations.grants.tasks.allocations_expire_due",
        "schedule": crontab(hour=0, minute=15),
    },
    # Every morning, before the working day: one mail per person who chose the daily digest (idempotent).
    "notifications-daily-digest": {
        "task": "accounts.tasks.send_notification_digests",
        "schedule": crontab(hour=7, minute=0),
    },
    # Every morning, before the digest: open the final reports owed and remind the organisations
    # AIF_FINAL_REPORT_REMINDER_DAYS before each due date and on it (each reminder once).
    "final-report-reminders": {
        "task": "allocations.outcomes.tasks.final_report_reminders",
        "schedule": crontab(hour=6, minute=30),
    },
    # Working-day mornings; the task itself counts working days (Belgian holidays excluded).
    "deadline-reminders": {
        "task": "allocations.review.tasks.deadline_reminders",
        "schedule": crontab(hour=7, minute=30, day_of_week="mon-fri"),
    },
}
