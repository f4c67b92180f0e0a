"""The audit trail records every change with its context, survives deletion, and cannot be bypassed."""

from __future__ import annotations

import contextvars
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from fourfold.audit.context import AuditContextMissing, ChangeSource, audit_context, audit_reason
from fourfold.audit.models import AuditEntry
from fourfold.audit.selectors import history_for_object, history_for_object_id, history_for_scorecard
from fourfold.measures.models import Kpi, KpiTarget
from fourfold.measures.services import actual_record, kpi_delete, kpi_target_set, kpi_update, kpi_updaters_set
from fourfold.strategy.models import Objective, Perspective
from fourfold.strategy.services import perspective_update, scorecard_delete


def test_create_update_delete_are_recorded_with_actor_source_and_values(world):
    with audit_context(actor=world.editor, source=ChangeSource.API, correlation_id="req-42"):
        setting = kpi_target_set(by=world.editor, kpi=world.kpi, period_key="2026-01", target=Decimal("80"))
        kpi_target_set(by=world.editor, kpi=world.kpi, period_key="2026-01", target=Decimal("85"))
        setting.refresh_from_db()
        setting_id = setting.pk
        setting.delete()

    entries = list(history_for_object_id(KpiTarget, setting_id).order_by("id"))
    assert [entry.action for entry in entries] == ["create", "update", "delete"]
    assert {entry.actor for entry in entries} == {world.editor}
    assert {entry.source for entry in entries} == {"api"}
    assert {entry.correlation_id for entry in entries} == {"req-42"}
    assert entries[0].before is None
    assert entries[0].after["target"] == "80"
    assert entries[1].changed_fields() == [("target", "80", "85")]
    assert entries[2].before["target"] == "85"
    assert entries[2].after is None
    assert entries[2].scorecard_id == world.scorecard.pk


def test_saving_without_a_change_records_nothing(world):
    before = AuditEntry.objects.count()
    perspective = world.scorecard.perspectives.first()
    perspective_update(by=world.editor, perspective=perspective, changes={"name": perspective.name})
    assert AuditEntry.objects.count() == before


def test_reason_is_kept(world):
    with audit_reason("Board asked for a stretch target"):
        kpi_target_set(by=world.editor, kpi=world.kpi, period_key="2026-02", target=Decimal("90"))
    entry = AuditEntry.objects.filter(content_type=ContentType.objects.get_for_model(KpiTarget)).latest("id")
    assert entry.reason == "Board asked for a stretch target"


def test_membership_changes_of_many_to_many_fields_are_recorded(world):
    kpi_updaters_set(by=world.editor, kpi=world.kpi, users=[world.updater, world.other_updater])
    entry = history_for_object(world.kpi).filter(action="update").first()
    first, second = sorted([world.updater, world.other_updater], key=lambda user: user.pk)
    assert entry.after == {"updaters": [f"{first.username} (#{first.pk})", f"{second.username} (#{second.pk})"]}
    assert entry.before == {"updaters": [f"updater (#{world.updater.pk})"]}


def test_history_survives_deletion_including_cascaded_children(world):
    actual_record(by=world.updater, kpi=world.kpi, period_key="2026-01", value=Decimal("71.5"))
    kpi_id, objective_id, scorecard_id = world.kpi.pk, world.objective.pk, world.scorecard.pk
    scorecard_delete(by=world.admin, scorecard=world.scorecard)

    # created, given an updater by the fixture, then deleted with its scorecard
    assert list(history_for_object_id(Kpi, kpi_id).values_list("action", flat=True)) == ["delete", "update", "create"]
    assert history_for_object_id(Objective, objective_id).filter(action="delete").exists()
    deleted_types = set(
        history_for_scorecard(scorecard_id).filter(action="delete").values_list("content_type__model", flat=True)
    )
    assert {"scorecard", "perspective", "objective", "kpi", "actual"} <= deleted_types


def test_kpi_delete_is_attributed_to_the_scorecard_after_the_fact(world):
    kpi_id = world.kpi.pk
    kpi_delete(by=world.editor, kpi=world.kpi)
    entry = history_for_object_id(Kpi, kpi_id).get(action="delete")
    assert entry.scorecard_id == world.scorecard.pk
    assert entry.organisation_id == world.organisation.pk
    assert entry.object_repr == "Customer satisfaction"


def test_writes_outside_an_audit_context_fail_loudly(world):
    def write_without_context() -> None:
        kpi_update(by=world.editor, kpi=world.kpi, changes={"name": "Renamed"})

    with pytest.raises(AuditContextMissing, match="audit_context"):
        contextvars.Context().run(write_without_context)
    world.kpi.refresh_from_db()
    assert world.kpi.name == "Customer satisfaction"


def test_web_requests_are_recorded_as_web_with_the_signed_in_user(world, client):
    client.force_login(world.updater)
    response = client.post(
        reverse("measures:actual_record", args=[world.kpi.pk]), {"period_key": "2026-03", "value": "75"}
    )
    assert response.status_code == 302
    entry = AuditEntry.objects.latest("id")
    assert (entry.action, entry.source, entry.actor, entry.actor_name) == ("create", "web", world.updater, "updater")
    assert response["X-Request-ID"] == entry.correlation_id


def test_scorecard_history_page_lists_changes_including_deleted_objects(world, client):
    perspective = Perspective.objects.get(scorecard=world.scorecard, kind="learning")
    perspective.delete()
    client.force_login(world.viewer)
    response = client.get(reverse("audit:scorecard_history", args=[world.scorecard.pk]))
    assert response.status_code == 200
    assert "Deleted" in response.content.decode()
    assert "Learning &amp; growth" in response.content.decode()
