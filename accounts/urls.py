"""Canonical routes of this app (mounted under /api/v1/).

Account ids are integers (`\\d+`), so these never shadow word paths under the same prefix
(django-allauth's /accounts/login/ etc. at the site root use the same shape in compat routes).
"""

from django.urls import path

from accounts import views

account_list = views.AccountViewSet.as_view({"get": "list", "post": "create"})
account_detail = views.AccountViewSet.as_view(
    {"get": "retrieve", "put": "update", "patch": "partial_update", "delete": "destroy"}
)
account_rotate_secret = views.AccountViewSet.as_view({"post": "rotate_secret"})
member_list = views.MembershipViewSet.as_view({"get": "list", "post": "create"})
member_detail = views.MembershipViewSet.as_view(
    {"get": "retrieve", "put": "update", "patch": "partial_update", "delete": "destroy"}
)

urlpatterns = [
    path("accounts/", account_list, name="account-list"),
    path("accounts/<int:pk>/", account_detail, name="account-detail"),
    path(
        "accounts/<int:pk>/rotate-secret/",
        account_rotate_secret,
        name="account-rotate-secret",
    ),
    path("accounts/<int:account_pk>/members/", member_list, name="account-member-list"),
    path(
        "accounts/<int:account_pk>/members/<int:pk>/",
        member_detail,
        name="account-member-detail",
    ),
    path("users/invite/", views.InviteView.as_view(), name="user-invite"),
    path("invitations/accept/", views.InvitationAcceptView.as_view(), name="invitation-accept"),
]
