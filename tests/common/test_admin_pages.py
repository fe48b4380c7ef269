"""Every model of the project has an admin page with search and filters, and its pages load."""

import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import reverse

PROJECT_APPS = ("users", "accounts", "endpoints", "destinations")


def project_models():
    return [
        model
        for label in PROJECT_APPS
        for model in apps.get_app_config(label).get_models()
        # Through/link rows shown inline on their parent's page.
        if not model._meta.auto_created
    ]


@pytest.mark.parametrize("model", project_models(), ids=lambda m: m._meta.label)
def test_every_model_is_registered_with_search_or_filters(model):
    assert admin.site.is_registered(model), f"{model._meta.label} has no admin page"
    model_admin = admin.site._registry[model]
    assert model_admin.search_fields or model_admin.list_filter, model._meta.label


@pytest.mark.django_db
@pytest.mark.parametrize("model", project_models(), ids=lambda m: m._meta.label)
def test_every_changelist_loads_for_a_superuser(admin_client, model):
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    response = admin_client.get(url, {"q": "x"})
    assert response.status_code == 200, url
