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
