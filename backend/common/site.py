"""The sites framework's record (allauth pages and mails, the DRF login page) named after this
API instead of Django's "example.com", and the favicon."""

from pathlib import Path
from typing import Any

from csp.decorators import csp_exempt
from django.conf import settings
from django.http import FileResponse, HttpRequest

FAVICON = Path(__file__).resolve().parent / "static" / "site" / "favicon.ico"
DJANGO_DEFAULT_DOMAIN = "example.com"


def name_the_site(using: str = "default", **_: Any) -> None:
    """post_migrate: the Site row Django creates as example.com takes SITE_NAME / SITE_DOMAIN.
    A site an admin has renamed is left alone."""
    from django.contrib.sites.models import Site

    Site.objects.using(using).filter(pk=settings.SITE_ID, domain=DJANGO_DEFAULT_DOMAIN).update(
        name=settings.SITE_NAME, domain=settings.SITE_DOMAIN
    )


@csp_exempt()
def favicon(request: HttpRequest) -> FileResponse:
    # An image: a policy meant for documents only breaks the browser's viewer when opened alone.
    response = FileResponse(FAVICON.open("rb"), content_type="image/x-icon")
    response["Cache-Control"] = "public, max-age=86400"
    return response
