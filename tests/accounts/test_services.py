"""Account services: the personal account at registration, names, roles, the last Admin rule."""

import threading

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from rest_framework.exceptions import ValidationError

from accounts import services
from accounts.models import Account, Membership
from backend.common.exceptions import Conflict
from tests.factories import DEFAULT_PASSWORD, AccountFactory, MembershipFactory, UserFactory
from users.services import user_register
from users.signals import user_registered

pytestmark = pytest.mark.django_db


def test_it_creates_a_personal_account_at_registration():
    user = user_register(email="Alice.Smith@Example.com", password=DEFAULT_PASSWORD)
    [membership] = Membership.objects.filter(user=user)
    assert membership.role == Membership.Role.ADMIN
    assert membership.account.name == "alice.smith"
    assert membership.account.created_by == user


def test_it_suffixes_the_personal_account_name_on_collision():
    AccountFactory(name="bob")
    user = user_register(email="bob@example.com", password=DEFAULT_PASSWORD)
    account = Membership.objects.get(user=user).account
    assert account.name.startswith("bob-")
    assert Account.objects.filter(name__iexact="bob").count() == 1


def test_it_rolls_back_the_registration_if_the_account_fails(monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(services, "account_create_personal", broken)
    with pytest.raises(RuntimeError):
        user_register(email="carol@example.com", password=DEFAULT_PASSWORD)
    assert not get_user_model().objects.filter(email="carol@example.com").exists()


def test_it_creates_the_personal_account_once_per_signal_receiver():
    user = UserFactory(email="dave@example.com")
    user_registered.send(sender=type(user), user=user, request=None)
    user_registered.send(sender=type(user), user=user, request=None)
    assert Membership.objects.filter(user=user, role=Membership.Role.ADMIN).count() == 1


def test_it_registers_through_the_api_with_a_personal_account(api_client):
    response = api_client.post(
        "/api/v1/auth/register/", {"email": "erin@example.com", "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 201
    membership = Membership.objects.get(user__email="erin@example.com")
    assert membership.role == Membership.Role.ADMIN


@pytest.mark.parametrize(
    ("value", "role"),
    [
        (1, Membership.Role.ADMIN),
        ("1", Membership.Role.ADMIN),
        ("Admin", Membership.Role.ADMIN),
        (" admin ", Membership.Role.ADMIN),
        (2, Membership.Role.NORMAL_USER),
        ("normal_user", Membership.Role.NORMAL_USER),
        ("Normal User", Membership.Role.NORMAL_USER),
    ],
)
def test_it_parses_roles(value, role):
    assert Membership.Role.parse(value) == role


@pytest.mark.parametrize("value", [0, 3, "superuser", "", None, True, 1.0])
def test_it_refuses_unknown_roles(value):
    with pytest.raises(ValueError):
        Membership.Role.parse(value)


def test_it_refuses_a_blank_or_duplicate_account_name():
    user = UserFactory()
    AccountFactory(name="Acme")
    with pytest.raises(ValidationError) as error:
        services.account_create(name="   ", created_by=user)
    assert "name" in error.value.detail
    with pytest.raises(ValidationError) as error:
        services.account_create(name="ACME", created_by=user)
    assert "name" in error.value.detail
    assert not Membership.objects.filter(user=user).exists()


def test_it_never_leaves_an_account_without_admin():
    admin = MembershipFactory(role=Membership.Role.ADMIN)
    member = MembershipFactory(account=admin.account)
    with pytest.raises(Conflict):
        services.membership_remove(membership=admin)
    with pytest.raises(Conflict):
        services.membership_update_role(membership=admin, role="Normal user")
    services.membership_remove(membership=member)
    assert Membership.objects.filter(account=admin.account).count() == 1


@pytest.mark.django_db(transaction=True)
def test_it_keeps_an_admin_when_two_admins_demote_each_other_at_once():
    first = MembershipFactory(role=Membership.Role.ADMIN)
    second = MembershipFactory(account=first.account, role=Membership.Role.ADMIN)
    barrier = threading.Barrier(2)
    outcomes = []

    def demote(membership_id):
        try:
            # Connect first, so both threads reach the check at about the same moment.
            membership = Membership.objects.get(pk=membership_id)
            barrier.wait(timeout=10)
            services.membership_update_role(membership=membership, role=2)
            outcomes.append("demoted")
        except Conflict:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=demote, args=(m.pk,)) for m in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["demoted", "refused"]
    admins = Membership.objects.filter(account=first.account, role=Membership.Role.ADMIN)
    assert admins.count() == 1
