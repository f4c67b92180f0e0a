"""WSGI entry point for gunicorn (``fourfold serve``)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fourfold.settings")
application = get_wsgi_application()
