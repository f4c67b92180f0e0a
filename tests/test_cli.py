"""The ``fourfold`` command as an operator meets it: help everywhere, setup from the environment, clear errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fourfold.accounts.models import User
from fourfold.cli import app

FOURFOLD = str(Path(sys.executable).parent / "fourfold")
runner = CliRunner()


@pytest.mark.parametrize(
    "command",
    [[], ["serve"], ["setup"], ["demo"], ["manage"], ["score"], ["demo-data"], ["compute"], ["worker"], ["sources"]],
)
def test_every_command_has_help(command):
    result = subprocess.run(
        [FOURFOLD, *command, "--help"], capture_output=True, text=True, check=False, env={**os.environ, "DEBUG": "1"}
    )
    assert result.returncode == 0, result.stderr
    assert "Usage: fourfold" in result.stdout or "Available subcommands" in result.stdout


def test_manage_passes_through_to_django(tmp_path):
    env = {**os.environ, "DEBUG": "1", "FOURFOLD_DATA_DIR": str(tmp_path)}
    env.pop("DATABASE_URL", None)
    result = subprocess.run([FOURFOLD, "manage", "check"], capture_output=True, text=True, check=False, env=env)
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_settings_refuse_to_start_without_a_secret_key_when_debug_is_off(tmp_path):
    env = {key: value for key, value in os.environ.items() if key not in {"SECRET_KEY", "DEBUG"}}
    code = "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='fourfold.settings'; django.setup()"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, env=env, cwd=tmp_path
    )
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


@pytest.mark.django_db(transaction=True)
def test_setup_no_input_creates_the_admin_from_the_environment(monkeypatch):
    monkeypatch.setenv("FOURFOLD_ADMIN_USERNAME", "operator")
    monkeypatch.setenv("FOURFOLD_ADMIN_EMAIL", "ops@example.org")
    monkeypatch.setenv("FOURFOLD_ADMIN_PASSWORD", "a-long-unusual-passphrase-42")
    result = runner.invoke(app, ["setup", "--no-input"])
    assert result.exit_code == 0, result.output
    assert "Created admin user 'operator'" in result.output
    admin = User.objects.get(username="operator")
    assert admin.is_superuser
    assert admin.check_password("a-long-unusual-passphrase-42")
    again = runner.invoke(app, ["setup", "--no-input"])
    assert "exists already" in again.output
    assert User.objects.filter(is_superuser=True).count() == 1


@pytest.mark.django_db(transaction=True)
def test_setup_no_input_names_what_is_missing(monkeypatch):
    monkeypatch.delenv("FOURFOLD_ADMIN_USERNAME", raising=False)
    monkeypatch.delenv("FOURFOLD_ADMIN_PASSWORD", raising=False)
    result = runner.invoke(app, ["setup", "--no-input"])
    assert result.exit_code == 2
    assert "FOURFOLD_ADMIN_USERNAME and FOURFOLD_ADMIN_PASSWORD" in result.output
    assert not User.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_setup_refuses_a_weak_admin_password(monkeypatch):
    monkeypatch.setenv("FOURFOLD_ADMIN_USERNAME", "operator")
    monkeypatch.setenv("FOURFOLD_ADMIN_PASSWORD", "123")
    result = runner.invoke(app, ["setup", "--no-input"])
    assert result.exit_code == 2
    assert "too short" in result.output
    assert not User.objects.exists()
