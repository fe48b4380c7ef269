"""The OpenAPI schema documents the OAuth2 scheme and each operation's scope; admin pages."""

import pytest
import yaml
from django.core.management import call_command

from endpoints.models import OAuthApplicationAccount
from tests.factories import AccountFactory
from tests.oauth.conftest import make_application


@pytest.mark.django_db
def test_it_documents_the_oauth2_scheme_and_the_scope_of_each_operation(tmp_path):
    # One schema build (seconds) for both checks.
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    schema = yaml.safe_load(out.read_text())

    scheme = schema["components"]["securitySchemes"]["oauth2"]
    assert scheme["type"] == "oauth2"
    assert set(scheme["flows"]) == {"authorizationCode", "clientCredentials"}
    code_flow = scheme["flows"]["authorizationCode"]
    assert code_flow["authorizationUrl"] == "/api/v1/oauth2/authorize/"
    assert code_flow["tokenUrl"] == "/api/v1/oauth2/token/"
    assert set(code_flow["scopes"]) == {"read", "write", "ingest"}
    assert {"jwtAuth", "ApiKeyAuth", "oauth2"} <= set(schema["components"]["securitySchemes"])

    paths = schema["paths"]
    assert {"oauth2": ["read"]} in paths["/api/v1/tasks/"]["get"]["security"]
    assert {"oauth2": ["write"]} in paths["/api/v1/tasks/"]["post"]["security"]
    assert {"oauth2": ["ingest"]} in paths["/api/v1/incoming-data/"]["post"]["security"]
    # Where OAuth2 tokens are refused, the scheme is not offered.
    create_app = paths["/api/v1/oauth2-applications/"]["post"]["security"]
    assert all("oauth2" not in requirement for requirement in create_app)


def test_it_lists_the_account_bindings_in_the_admin(admin_client, staff_user):
    account = AccountFactory()
    application, _ = make_application(user=staff_user)
    OAuthApplicationAccount.objects.create(application=application, account=account)
    response = admin_client.get("/admin/endpoints/oauthapplicationaccount/?q=" + account.name)
    assert response.status_code == 200
    assert application.name.encode() in response.content
    assert admin_client.get("/admin/oauth2_provider/application/").status_code == 200
