"""Role checks for account-scoped views, reusable by the apps to the right (destinations).

Non-members get 404 (an account they do not belong to does not exist for them); members
without the Admin role get 403 on admin-only actions.

A view names its account in one of three ways, checked in this order:
- a `get_permission_account_id()` method;
- a URL kwarg in `account_url_kwarg` (default: "account_pk", then "account_id");
- object-level only: the object is an Account or has an `account_id` attribute.
The membership found is cached on the request as `request.account_membership`.
"""

from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.permissions import SAFE_METHODS, BasePermission

from accounts.models import Account, Membership
from accounts.selectors import membership_get

ADMIN_REQUIRED = "Only an Admin of this account can do this."


def require_membership(*, user, account_id) -> Membership:
    """The user's membership of the account; NotFound (404) if there is none."""
    membership = membership_get(user=user, account_id=account_id)
    if membership is None:
        raise NotFound("Account not found.")
    return membership


def require_admin(*, user, account_id) -> Membership:
    """The user's Admin membership; 404 for non-members, 403 for members without the role."""
    membership = require_membership(user=user, account_id=account_id)
    if not membership.is_admin:
        raise PermissionDenied(ADMIN_REQUIRED)
    return membership


def _account_id_from_view(view):
    getter = getattr(view, "get_permission_account_id", None)
    if getter is not None:
        return getter()
    kwargs = getattr(view, "kwargs", None) or {}
    names = [getattr(view, "account_url_kwarg", None), "account_pk", "account_id"]
    for name in names:
        if name and name in kwargs:
            return kwargs[name]
    return None


def _account_id_from_object(obj):
    if isinstance(obj, Account):
        return obj.pk
    return getattr(obj, "account_id", None)


def _membership(request, account_id) -> Membership:
    cached = getattr(request, "account_membership", None)
    if cached is not None and str(cached.account_id) == str(account_id):
        return cached
    try:
        int(account_id)
    except (TypeError, ValueError):
        raise NotFound("Account not found.") from None
    membership = require_membership(user=request.user, account_id=account_id)
    request.account_membership = membership
    return membership


class IsAccountMember(BasePermission):
    """The caller is a member (any role) of the account; otherwise 404."""

    def _needs_admin(self, request, view) -> bool:
        return False

    def _check(self, request, view, account_id) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        membership = _membership(request, account_id)
        if self._needs_admin(request, view) and not membership.is_admin:
            raise PermissionDenied(ADMIN_REQUIRED)
        return True

    def has_permission(self, request, view):
        if not (request.user and request.user.is_authenticated):
            return False
        account_id = _account_id_from_view(view)
        if account_id is None:
            return True  # Decided per object.
        return self._check(request, view, account_id)

    def has_object_permission(self, request, view, obj):
        account_id = _account_id_from_object(obj)
        if account_id is None:
            return False
        return self._check(request, view, account_id)


class IsAccountAdmin(IsAccountMember):
    """The caller is an Admin of the account; 404 for non-members, 403 for other members."""

    def _needs_admin(self, request, view) -> bool:
        return True


class IsAccountAdminOrReadOnly(IsAccountMember):
    """Members may read (safe methods); writes need the Admin role (403 otherwise)."""

    def _needs_admin(self, request, view) -> bool:
        return request.method not in SAFE_METHODS
