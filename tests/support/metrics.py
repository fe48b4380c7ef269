"""Reads one sample out of a Prometheus text exposition (as /metrics serves it)."""

from prometheus_client.parser import text_string_to_metric_families


def metric_value(text: str, sample_name: str, **labels) -> float:
    """The value of the sample named `sample_name` whose labels include `labels` (0 if absent)."""
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == sample_name and all(
                sample.labels.get(k) == v for k, v in labels.items()
            ):
                return sample.value
    return 0.0


def metric_delta(before: str, after: str, sample_name: str, **labels) -> float:
    """How much a sample grew between two scrapes of the same process (in-process metrics keep
    counting across tests, so a test of the test process's own /metrics compares two scrapes)."""
    return metric_value(after, sample_name, **labels) - metric_value(before, sample_name, **labels)
