"""Helpers the serving rules (SRV001-SRV003) share: the pattern and traffic a rule needs before it can judge, and
how instances and sizes are described in findings."""

from __future__ import annotations

from mlgate.checks import CheckContext
from mlgate.cost import num
from mlgate.facts import Instance, PatternName, load_facts
from mlgate.result import Finding
from mlgate.spec.models import Serving, Traffic

TRAFFIC = ("serving", "traffic")
_PATTERN_FIX = ("Declare serving.pattern (realtime, serverless, async or batch) and serving.traffic: requests_per_day, "
                "peak_rps, latency_p99_ms, payload_kb, processing_s, synchronous, gpu.")


def with_article(label: str) -> str:
    """The label with its indefinite article: "an asynchronous endpoint", "a batch transform"."""
    return f"{'an' if label[:1] in 'aeiou' else 'a'} {label}"


def show_bytes(n: float) -> str:
    if n >= 1e9:
        return f"{num(n / 1e9)} GB"
    if n % (1024 * 1024) == 0:
        return f"{num(n / (1024 * 1024))} MiB ({int(n):,} bytes)"
    return f"{num(n / 1e6)} MB"


def serving_pattern(ctx: CheckContext) -> tuple[Serving, PatternName] | Finding:
    """The serving section and its pattern, or the failure that says what to declare."""
    serving = ctx.spec.serving
    if serving is None or serving.pattern is None:
        return ctx.fail("serving.pattern is not declared: nothing says how the model is served, so its fit to the "
                        "traffic, the platform limits and the capacity cannot be checked",
                        at=("serving", "pattern"), fix=_PATTERN_FIX)
    return serving, serving.pattern


def missing_traffic(ctx: CheckContext, traffic: Traffic | None, names: tuple[str, ...], why: str) -> Finding | None:
    absent = [n for n in names if traffic is None or getattr(traffic, n) is None]
    if not absent:
        return None
    fields = [f"serving.traffic.{n}" for n in absent]
    listed = fields[0] if len(fields) == 1 else f"{', '.join(fields[:-1])} and {fields[-1]}"
    verb = "is" if len(fields) == 1 else "are"
    return ctx.fail(f"{listed} {verb} not declared: {why}", at=TRAFFIC,
                    fix=f"Add {', '.join(absent)} under serving.traffic: what the use case needs (from its "
                        "callers and a load test), not what the endpoint can do.")


def instance_type_missing(ctx: CheckContext, serving: Serving, pattern: PatternName) -> Finding | None:
    if pattern == "serverless" or serving.instance_type:
        return None
    return ctx.fail(f"serving.instance_type is not declared: {with_article(load_facts().pattern(pattern).label)} "
                    "runs on instances of a type you choose", at=("serving", "instance_type"),
                    fix="Declare serving.instance_type (e.g. ml.c5.xlarge) and serving.instance_count.")


def describe_instance(itype: str, inst: Instance | None) -> str:
    if inst is None:
        return itype
    accel = ""
    if inst.gpus:
        accel = f", {inst.gpus} {inst.accelerator + ' ' if inst.accelerator else ''}GPU{'s' if inst.gpus > 1 else ''}"
    elif inst.neuron_devices:
        accel = f", {inst.neuron_devices} {inst.accelerator or 'Neuron'} device{'s' if inst.neuron_devices > 1 else ''}"
    return f"{itype} ({inst.vcpus} vCPUs, {num(inst.memory_gib)} GiB{accel})"


