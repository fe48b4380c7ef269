"""Type aliases shared by the apps' annotations."""

from django.http import HttpRequest
from rest_framework.request import Request

# Services are called from DRF views (Request) and from Django code such as allauth (HttpRequest).
AnyRequest = HttpRequest | Request
