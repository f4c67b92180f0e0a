"""Password reset by e-mail: a link is mailed to a known address and works once; an unknown address gets
the same answer and no mail, so the form tells nobody which addresses have accounts."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import authenticate
from django.core import mail
from django.urls import reverse

NEW_PASSWORD = "violet-kettle-harbour-42"


@pytest.fixture
def ana(world):
    """The viewer, with an e-mail address."""
    world.viewer.email = "ana@example.org"
    world.viewer.save()
    return world.viewer


def ask_for_reset(client, email: str):
    return client.post(reverse("accounts:password_reset"), {"email": email}, follow=True)


def reset_link(message) -> str:
    """The path of the link in a reset e-mail."""
    found = re.search(r"https?://[^/\s]+(/accounts/password/reset/\S+/)", message.body)
    assert found, message.body
    return found.group(1)


def without_tokens(page: str) -> str:
    """The page without its CSRF tokens, which differ on every answer."""
    return re.sub(r'(name="csrfmiddlewaretoken" value|name="csrf-token" content)="[^"]*"', "", page)


def test_the_sign_in_page_offers_a_password_reset(client):
    page = client.get(reverse("accounts:login")).content.decode()
    assert "Forgot your password?" in page
    assert reverse("accounts:password_reset") in page


def test_a_known_address_gets_a_mail_whose_link_sets_a_new_password(ana, client):
    answer = ask_for_reset(client, "ana@example.org")
    assert answer.redirect_chain[-1][0] == reverse("accounts:password_reset_done")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["ana@example.org"]
    assert message.subject == "Choose a new Fourfold password"
    assert "Your username is viewer." in message.body

    form = client.get(reset_link(message), follow=True)
    assert "Choose a new password" in form.content.decode()
    done = client.post(
        form.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}, follow=True
    )
    assert done.redirect_chain[-1][0] == reverse("accounts:password_reset_complete")
    assert "Password set" in done.content.decode()
    assert authenticate(username="viewer", password=NEW_PASSWORD) == ana


def test_an_unknown_address_gets_the_same_answer_and_no_mail(ana, client):
    known = ask_for_reset(client, "ana@example.org")
    unknown = ask_for_reset(client, "nobody@example.org")
    assert len(mail.outbox) == 1  # only the known address's
    assert unknown.redirect_chain == known.redirect_chain
    assert without_tokens(unknown.content.decode()) == without_tokens(known.content.decode())


def test_a_link_works_only_once(ana, client):
    ask_for_reset(client, "ana@example.org")
    link = reset_link(mail.outbox[0])
    form = client.get(link, follow=True)
    client.post(form.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    again = client.get(link, follow=True).content.decode()
    assert "This link no longer works" in again
    assert reverse("accounts:password_reset") in again


def test_mismatched_passwords_are_refused_next_to_the_field(ana, client):
    ask_for_reset(client, "ana@example.org")
    form = client.get(reset_link(mail.outbox[0]), follow=True)
    answer = client.post(form.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": "other"})
    page = answer.content.decode()
    assert 'id="id_new_password2_error"' in page
    assert re.search(r'aria-describedby="[^"]*id_new_password2_error[^"]*"', page)
    assert authenticate(username="viewer", password=NEW_PASSWORD) is None
