"""Factories of the endpoints app."""

from datetime import timedelta

import factory
from django.utils import timezone

from endpoints.models import ScheduledTask
from tests.factories import UserFactory


class ScheduledTaskFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ScheduledTask

    name = factory.Sequence(lambda n: f"Task {n}")
    task_type = "add"
    parameters = factory.LazyFunction(lambda: {"x": 1, "y": 2})
    owner = factory.SubFactory(UserFactory)
    # Far ahead by default, so no dispatcher picks a factory task up unless a test wants it.
    scheduled_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=1))
