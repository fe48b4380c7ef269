"""Factories of the destinations app (SubFactory keeps everything in one account)."""

import factory
from django.utils import timezone

from destinations.models import DeliveryLog, Destination, Event
from tests.factories import AccountFactory


class DestinationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Destination

    account = factory.SubFactory(AccountFactory)
    url = "https://93.184.216.34/hook"
    http_method = "POST"
    headers = factory.LazyFunction(dict)


class EventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Event

    account = factory.SubFactory(AccountFactory)
    event_id = factory.Sequence(lambda n: f"evt_{n}")
    body = '{"key": "value"}'
    received_at = factory.LazyFunction(timezone.now)
    # Factory logs are made directly: their event counts as fanned out.
    fanned_out_at = factory.SelfAttribute("received_at")


class DeliveryLogFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DeliveryLog

    destination = factory.SubFactory(DestinationFactory)
    account = factory.SelfAttribute("destination.account")
    event = factory.SubFactory(EventFactory, account=factory.SelfAttribute("..account"))
    status = DeliveryLog.Status.PENDING
    received_timestamp = factory.SelfAttribute("event.received_at")
    next_attempt_at = factory.SelfAttribute("event.received_at")
