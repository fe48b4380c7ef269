"""The registry of scheduled-task types: adding a type is one registered function + a serializer.

A task function takes the validated parameters and a `progress(dict)` callback and returns the
JSON-serialisable result. Example::

    class EchoParameters(StrictSerializer):
        text = serializers.CharField(max_length=100)

    @register("echo", EchoParameters, "Returns its text.")
    def echo(params, progress):
        return params["text"]
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from rest_framework import serializers

from backend.common.serializers import StrictSerializer

Progress = Callable[[dict], None]
TaskFunction = Callable[[dict, Progress], object]


@dataclass(frozen=True)
class TaskType:
    """One registered type: its name, function, parameter serializer and a line of help."""

    name: str
    function: TaskFunction
    parameters_serializer: type[serializers.Serializer]
    description: str


REGISTRY: dict[str, TaskType] = {}


def register(name: str, parameters_serializer: type[serializers.Serializer], description: str):
    """Decorator registering a task function under `name`."""

    def decorator(function: TaskFunction) -> TaskFunction:
        REGISTRY[name] = TaskType(name, function, parameters_serializer, description)
        return function

    return decorator


def get_task_type(name: str) -> TaskType | None:
    return REGISTRY.get(name)


def task_type_names() -> list[str]:
    return sorted(REGISTRY)


# --- Parameter fields --------------------------------------------------------------------------

NUMBER_LIMIT = 1e15


class NumberField(serializers.Field):
    """A JSON number (int stays int), finite and bounded; booleans and strings are refused."""

    default_error_messages = {
        "invalid": "A number is required.",
        "bounds": f"Must be between -{NUMBER_LIMIT:g} and {NUMBER_LIMIT:g}.",
    }

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | float):
            self.fail("invalid")
        if isinstance(data, float) and not math.isfinite(data):
            self.fail("invalid")
        if abs(data) > NUMBER_LIMIT:
            self.fail("bounds")
        return data

    def to_representation(self, value):
        return value


# --- Built-in types ------------------------------------------------------------------------------


class AddParameters(StrictSerializer):
    x = NumberField()
    y = NumberField()


@register("add", AddParameters, "Adds two numbers x and y; the result is their sum.")
def add(params: dict, progress: Progress):
    return params["x"] + params["y"]


class LongRunningParameters(StrictSerializer):
    duration = serializers.IntegerField(min_value=0, default=10, help_text="Seconds to run.")

    def validate_duration(self, value: int) -> int:
        limit = settings.TASK_LONG_RUNNING_MAX_SECONDS
        if value > limit:
            raise serializers.ValidationError(
                f"Ensure this value is less than or equal to {limit}."
            )
        return value


@register(
    "long_running",
    LongRunningParameters,
    "Works for `duration` seconds (bounded), reporting its progress in `result` every second.",
)
def long_running(params: dict, progress: Progress):
    duration = params["duration"]
    for elapsed in range(duration):
        progress({"progress": round(100 * elapsed / duration), "elapsed_seconds": elapsed})
        time.sleep(1)
    return {"progress": 100, "elapsed_seconds": duration}


class ProcessDataParameters(StrictSerializer):
    # Free-form JSON; its size is bounded by the task parameters limit.
    data = serializers.JSONField(required=False, default=None)  # type: ignore[assignment]  # a field named data; DRF moves declared fields off the class


def _summarise(value) -> dict:
    summary: dict = {"type": type(value).__name__ if value is not None else "null"}
    if isinstance(value, dict):
        summary["keys"] = sorted(value)[:100]
        summary["count"] = len(value)
    elif isinstance(value, list):
        summary["count"] = len(value)
        numbers = [v for v in value if isinstance(v, int | float) and not isinstance(v, bool)]
        if numbers:
            summary.update(sum=sum(numbers), min=min(numbers), max=max(numbers))
    elif isinstance(value, str):
        summary["length"] = len(value)
    return summary


@register(
    "process_data",
    ProcessDataParameters,
    "Summarises arbitrary JSON `data`: its type, size, keys or item count (and sum/min/max of "
    "numbers in a list). The default type when none is given.",
)
def process_data(params: dict, progress: Progress):
    data = params.get("data")
    summary = _summarise(data)
    summary["size_bytes"] = len(json.dumps(data, separators=(",", ":")).encode())
    return summary


def parameters_size_error(parameters) -> str | None:
    """An error message if the JSON parameters exceed TASK_PARAMETERS_MAX_BYTES, else None."""
    limit = settings.TASK_PARAMETERS_MAX_BYTES
    size = len(json.dumps(parameters, separators=(",", ":")).encode())
    return f"Too large: {size} bytes (at most {limit})." if size > limit else None
