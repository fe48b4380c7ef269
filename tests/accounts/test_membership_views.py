"""/api/v1/accounts/{id}/members/: Admin-only management, roles by name or number, last Admin."""

import pytest

from accounts.models import Membership
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def members_url(account):
    return f"/api/v1/accounts/{account.pk}/members/"


def member_url(membership):
    return f"/api/v1/accounts/{membership.account_id}/members/{membership.pk}/"


def test_it_lists_members_for_admins(admin_client, account, admin_user, member_user):
    response = admin_client.get(members_url(account))
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    first = body["results"][0]
    admin_membership = Membership.objects.get(account=account, user=admin_user)
    assert first == {
        "id": admin_membership.pk,
        "account": account.pk,
        "user": str(admin_user.pk),
        "email": admin_user.email,
        "username": admin_user.username,
        "is_active": True,
        "role": 1,
        "role_name": "Admin",
        "created_at": first["created_at"],
        "updated_at": first["updated_at"],
    }
    assert body["results"][1]["user"] == str(member_user.pk)


def test_it_hides_members_from_normal_members_and_outsiders(
    member_client, outsider_client, account
):
    response = member_client.get(members_url(account))
    assert response.status_code == 403
    assert set(response.json()) == {"error", "details"}
    assert outsider_client.get(members_url(account)).status_code == 404


def test_it_requires_credentials(api_client, account):
    assert api_client.get(members_url(account)).status_code == 401


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        (2, Membership.Role.NORMAL_USER),
        (1, Membership.Role.ADMIN),
        ("Normal user", Membership.Role.NORMAL_USER),
        ("admin", Membership.Role.ADMIN),
        ("NORMAL USER", Membership.Role.NORMAL_USER),
        ("2", Membership.Role.NORMAL_USER),
    ],
)
def test_it_adds_a_member_with_role_by_name_or_number(admin_client, account, role, expected):
    new_user = UserFactory()
    response = admin_client.post(members_url(account), {"user": str(new_user.pk), "role": role})
    assert response.status_code == 201
    membership = Membership.objects.get(account=account, user=new_user)
    assert membership.role == expected
    assert response.json()["role"] == int(expected)
    assert response.json()["role_name"] == expected.label


def test_it_adds_a_member_by_email_with_default_role(admin_client, account):
    new_user = UserFactory()
    response = admin_client.post(members_url(account), {"email": new_user.email.upper()})
    assert response.status_code == 201
    assert response.json()["user"] == str(new_user.pk)
    assert Membership.objects.get(account=account, user=new_user).role == 2


@pytest.mark.parametrize("role", [3, 0, "owner", "", None, True])
def test_it_refuses_a_bad_role(admin_client, account, role):
    new_user = UserFactory()
    response = admin_client.post(members_url(account), {"user": str(new_user.pk), "role": role})
    assert response.status_code == 400
    assert "role" in response.json()["details"]
    assert not Membership.objects.filter(user=new_user).exists()


def test_it_refuses_unknown_fields_and_unknown_users(admin_client, account):
    new_user = UserFactory()
    response = admin_client.post(
        members_url(account), {"user": str(new_user.pk), "role": 2, "is_admin": True}
    )
    assert response.status_code == 400
    assert response.json()["details"] == {"is_admin": ["Unknown field."]}

    response = admin_client.post(members_url(account), {"user": "not-a-uuid"})
    assert response.status_code == 400
    assert "user" in response.json()["details"]

    response = admin_client.post(
        members_url(account), {"user": "00000000-0000-0000-0000-000000000000"}
    )
    assert response.status_code == 400
    assert response.json()["details"] == {"user": ["No user with this id."]}

    response = admin_client.post(members_url(account), {"email": "nobody@example.com"})
    assert response.status_code == 400
    assert "email" in response.json()["details"]

    response = admin_client.post(members_url(account), {"role": 2})
    assert response.status_code == 400
    assert "user" in response.json()["details"]
    assert Membership.objects.filter(account=account).count() == 1


def test_it_refuses_to_add_someone_twice(admin_client, account, member_user):
    response = admin_client.post(members_url(account), {"user": str(member_user.pk)})
    assert response.status_code == 409
    assert Membership.objects.filter(account=account, user=member_user).count() == 1


def test_it_forbids_members_to_manage_members(member_client, account, member_membership):
    new_user = UserFactory()
    assert member_client.post(members_url(account), {"user": str(new_user.pk)}).status_code == 403
    assert member_client.patch(member_url(member_membership), {"role": 1}).status_code == 403
    assert not Membership.objects.filter(user=new_user).exists()
    member_membership.refresh_from_db()
    assert member_membership.role == Membership.Role.NORMAL_USER


def test_it_answers_404_to_outsiders_on_every_member_route(
    outsider_client, account, member_membership
):
    new_user = UserFactory()
    url = members_url(account)
    assert outsider_client.post(url, {"user": str(new_user.pk)}).status_code == 404
    assert outsider_client.get(member_url(member_membership)).status_code == 404
    assert outsider_client.patch(member_url(member_membership), {"role": 1}).status_code == 404
    assert outsider_client.delete(member_url(member_membership)).status_code == 404
    assert Membership.objects.filter(pk=member_membership.pk).exists()


def test_it_does_not_reach_other_accounts_memberships_through_my_account(admin_client, account):
    foreign = MembershipFactory()
    url = f"/api/v1/accounts/{account.pk}/members/{foreign.pk}/"
    assert admin_client.patch(url, {"role": 1}).status_code == 404
    assert admin_client.delete(url).status_code == 404
    foreign.refresh_from_db()
    assert foreign.role == Membership.Role.NORMAL_USER


def test_it_changes_a_role(admin_client, member_membership):
    response = admin_client.patch(member_url(member_membership), {"role": "Admin"})
    assert response.status_code == 200
    assert response.json()["role"] == 1
    member_membership.refresh_from_db()
    assert member_membership.role == Membership.Role.ADMIN

    response = admin_client.put(member_url(member_membership), {"role": "bogus"})
    assert response.status_code == 400
    assert "role" in response.json()["details"]


def test_it_keeps_the_last_admin(admin_client, admin_membership, member_membership):
    response = admin_client.patch(member_url(admin_membership), {"role": 2})
    assert response.status_code == 409
    assert "Admin" in response.json()["error"]
    response = admin_client.delete(member_url(admin_membership))
    assert response.status_code == 409
    admin_membership.refresh_from_db()
    assert admin_membership.role == Membership.Role.ADMIN

    # With a second Admin, the first may step down.
    admin_client.patch(member_url(member_membership), {"role": 1})
    response = admin_client.patch(member_url(admin_membership), {"role": 2})
    assert response.status_code == 200


def test_it_removes_a_member(admin_client, member_membership):
    assert admin_client.delete(member_url(member_membership)).status_code == 204
    assert not Membership.objects.filter(pk=member_membership.pk).exists()


def test_it_lets_a_member_leave_but_not_remove_others(
    member_client, account, admin_membership, member_membership
):
    other = MembershipFactory(account=account)
    assert member_client.delete(member_url(other)).status_code == 403
    assert member_client.delete(member_url(admin_membership)).status_code == 403
    assert member_client.delete(member_url(member_membership)).status_code == 204
    assert not Membership.objects.filter(pk=member_membership.pk).exists()
    assert Membership.objects.filter(pk=other.pk).exists()
