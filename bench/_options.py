"""Bench options (CLI flags with environment defaults) and how figures are printed."""

import os


def env_or(name: str, default, cast=str):
    """`cast(os.environ[name])` when set and not empty, else `default` (CLI defaults from env)."""
    value = os.environ.get(name)
    return cast(value) if value not in (None, "") else default


def num(value: float, digits: int = 0) -> str:
    """A figure with thousands separators: 1,210 or 0.67."""
    return f"{value:,.{digits}f}" if value == value else "n/a"  # NaN stays readable


def ratio(a: float, b: float) -> float:
    return a / b if b else float("nan")


def add_option(parser, flag: str, default, cast=str, help: str = "", env: str | None = None):
    """`--flag` whose default comes from `env` (default BENCH_<FLAG>) when set, else `default`;
    --help shows both."""
    env = env or "BENCH_" + flag.lstrip("-").replace("-", "_").upper()
    text = f"{help + ' ' if help else ''}(env {env}; default {default})"
    if cast is bool:
        parser.add_argument(flag, action="store_true", default=bool(env_or(env, "")), help=text)
    else:
        parser.add_argument(flag, type=cast, default=env_or(env, default, cast), help=text)
