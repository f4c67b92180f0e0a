"""Background tasks of computed KPIs, run by ``fourfold worker`` (django-tasks with its database backend)."""

from __future__ import annotations

from django_tasks import task

from fourfold.audit.context import ChangeSource, audit_context
from fourfold.computed.models import ComputationRun
from fourfold.computed.services import computation_run
from fourfold.strategy.models import Organisation


@task()
def compute_organisation(
    *, organisation_id: int, changed_only: bool = True, period_from: str = "", period_to: str = ""
) -> list[str]:
    """Compute an organisation's computed KPIs, by default only from where their data changed.

    Queued from the web ("compute now") or by a scheduler (cron running ``fourfold compute --enqueue``);
    returns the ids of the runs, whose records say what happened.
    """
    organisation = Organisation.objects.get(pk=organisation_id)
    with audit_context(actor=None, source=ChangeSource.JOB, reason="Scheduled computation"):
        runs = computation_run(
            organisation=organisation,
            by=None,
            trigger=ComputationRun.Trigger.TASK,
            changed_only=changed_only,
            period_from=period_from,
            period_to=period_to,
        )
    return [str(run.id) for run in runs]
