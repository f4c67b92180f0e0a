"""Choosing a language in the user menu: kept in a cookie, and numbers and dates then follow that language's
conventions (German writes 1.234,5) even where Fourfold's own words are not translated."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.conf import settings
from django.urls import reverse

from fourfold.measures.services import actual_record, kpi_create


@pytest.fixture
def revenue(world):
    """A KPI with a four-digit value and one decimal: 1234.5 for January 2026."""
    kpi = kpi_create(by=world.editor, objective=world.objective, key="rev", name="Revenue per tutor", decimals=1)
    actual_record(by=world.editor, kpi=kpi, period_key="2026-01", value=Decimal("1234.5"))
    return kpi


def choose(client, language: str, next_url: str):
    return client.post(reverse("set_language"), {"language": language, "next": next_url})


def test_the_user_menu_offers_the_languages_and_marks_the_current_one(world, client):
    client.force_login(world.viewer)
    page = client.get(reverse("strategy:home")).content.decode()
    assert f'action="{reverse("set_language")}"' in page
    for code in ("en", "en-gb", "de", "fr", "es", "nl"):
        assert f'name="language" value="{code}" lang="{code}"' in page
    assert 'value="en" lang="en" aria-current="true"' in page


def test_choosing_german_is_kept_and_formats_numbers_the_german_way(world, revenue, client):
    client.force_login(world.viewer)
    kpi_page = reverse("measures:kpi_detail", args=[revenue.pk])
    assert "1,234.5" in client.get(kpi_page).content.decode()

    answer = choose(client, "de", kpi_page)
    assert answer.status_code == 302
    assert answer["Location"] == kpi_page
    cookie = answer.cookies[settings.LANGUAGE_COOKIE_NAME]
    assert cookie.value == "de"
    assert int(cookie["max-age"]) >= 300 * 24 * 60 * 60  # kept across browser restarts

    page = client.get(kpi_page).content.decode()
    assert '<html lang="de"' in page
    assert "1.234,5" in page
    assert "1,234.5" not in page
    assert 'value="de" lang="de" aria-current="true"' in page


def test_the_scorecard_page_follows_the_chosen_language_too(world, revenue, client):
    client.force_login(world.viewer)
    choose(client, "de", "/")
    page = client.get(reverse("strategy:scorecard_detail", args=[world.scorecard.pk])).content.decode()
    assert '<html lang="de"' in page
    assert "1.234,5" in page


def test_a_british_browser_gets_british_english_without_choosing(world, client):
    client.force_login(world.viewer)
    page = client.get(reverse("strategy:home"), headers={"accept-language": "en-GB,en;q=0.8"}).content.decode()
    assert '<html lang="en-gb"' in page


def test_a_language_not_offered_is_ignored(world, client):
    client.force_login(world.viewer)
    answer = choose(client, "xx", "/")
    assert settings.LANGUAGE_COOKIE_NAME not in answer.cookies
    assert '<html lang="en"' in client.get(reverse("strategy:home")).content.decode()
