"""The facts table (every number sourced and dated) and the monthly cost models, as plain unit tests.

Hand computations use the table's us-east-1 prices and H = 730 h a month (30.41667 days, 2,628,000 s).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from importlib import resources
from typing import Any, TypeVar

import pytest

from mlgate.cost import (
    Assumptions,
    PriceError,
    Workload,
    always_on_monthly,
    batch_instance_hours,
    choose_instance,
    instance_throughput,
    monthly_costs,
    num,
    price_book,
    provisioned_monthly,
    scale_to_zero_instance_hours,
    serverless_compute_monthly,
    serverless_data_gb,
    usd,
)
from mlgate.facts import FACTS_FILE, Facts, gpu_family, load_facts
from mlgate.spec.models import Spec
from mlgate.yamlload import parse_yaml

T = TypeVar("T")


def must(value: T | None) -> T:
    assert value is not None
    return value


def raw_facts() -> dict[str, Any]:
    data = parse_yaml((resources.files("mlgate.facts") / FACTS_FILE).read_text(encoding="utf-8")).data
    assert isinstance(data, dict)
    return data


# The facts table -----------------------------------------------------------------------------------------------------

def numbers_without_source(node: Any, path: tuple[str, ...] = ()) -> list[str]:
    """Every number whose mapping does not say where it was read (a `source` and a `read` date)."""
    out: list[str] = []
    if isinstance(node, dict):
        sourced = "source" in node and "read" in node
        for key, value in node.items():
            if isinstance(value, int | float) and not isinstance(value, bool) and not sourced:
                out.append(".".join((*path, str(key))))
            else:
                out.extend(numbers_without_source(value, (*path, str(key))))
    elif isinstance(node, list):
        for i, item in enumerate(node):
            if isinstance(item, int | float) and not isinstance(item, bool):
                out.append(".".join((*path, str(i))))
            else:
                out.extend(numbers_without_source(item, (*path, str(i))))
    return out


def test_every_number_in_the_facts_table_has_a_source_and_a_date() -> None:
    data = raw_facts()
    assert data.pop("version") == 1  # the file format's version, not a fact
    assert numbers_without_source(data) == []


def test_numbers_without_source_finds_one() -> None:
    assert numbers_without_source({"a": {"value": 1}, "b": {"value": 2, "source": "x", "read": "2026-11-26"}}) == \
        ["a.value"]


def test_every_source_named_exists_and_every_source_listed_is_used() -> None:
    facts = load_facts()
    used = {key for item in facts.sourced() for key in item.source}
    assert used == set(facts.sources)
    # every entry was read at the table's first review (2026-11-26) or since, never in the future
    assert all(dt.date(2026, 11, 26) <= item.read <= dt.date.today() for item in facts.sourced())
    assert all(s.where and s.title and s.detail for s in facts.sources.values())


# The usage-type prefix of each priced Region, as the Price List API and the bills write it (USE1-Host:ml.m5.xlarge
# in us-east-1, USE2-Host:ml.g6.xlarge in us-east-2): a ref that quotes another Region's usage type would price one
# Region as another.
USAGE_PREFIX = {"us-east-1": "USE1", "us-east-2": "USE2", "eu-west-1": "EU"}


def test_every_price_has_a_source_that_exists_and_quotes_its_own_region() -> None:
    facts = load_facts()
    assert facts.prices, "the facts table prices no Region"
    for region, table in facts.prices.items():
        assert region in facts.regions.names
        entries = [*table.instances.values(), *(table.serverless.rates() if table.serverless else [])]
        assert entries, f"{region} is listed under prices with nothing priced"
        for entry in entries:
            for key in entry.source:
                source = facts.sources[key]
                assert source.title and source.detail and source.where
            assert entry.ref.strip()
            assert entry.confidence == "assumption" or "mlgate" not in entry.source
            for quoted in re.findall(r"\b([A-Z]{2,4}\d?)-Host:", entry.ref):
                assert quoted == USAGE_PREFIX[region], f"{region} quotes {quoted}-Host: {entry.ref}"


@pytest.mark.parametrize("region", sorted(set(load_facts().regions.names) - set(load_facts().prices)))
def test_every_region_without_sourced_prices_says_so_with_the_override(region: str) -> None:
    book = price_book(load_facts(), region)
    assert not book.instances and book.compute_per_gb_s is None and book.data_per_gb is None
    assert book.no_price("ml.m5.xlarge") == (
        f"no price for ml.m5.xlarge in {region} (the facts table has no sourced SageMaker price for this Region); "
        f"add it under [tool.mlgate.prices.{region}] (or the SRV001 parameter prices.{region})")


def test_an_unknown_source_key_is_refused() -> None:
    data = raw_facts()
    data["patterns"]["realtime"]["processing_s"]["source"] = "hearsay"
    with pytest.raises(ValueError, match="unknown source key\\(s\\): hearsay"):
        Facts.model_validate(data)


def test_pattern_limits_from_the_issue() -> None:
    f = load_facts()
    rt, sv, asy, batch = (f.pattern(p) for p in ("realtime", "serverless", "async", "batch"))
    assert (rt.payload_bytes.value, rt.processing_s.value, rt.gpu.value) == (6_291_456, 60, True)
    assert (sv.payload_bytes.value, sv.processing_s.value, sv.gpu.value) == (4_000_000, 60, False)
    assert [sv.fact(n).value for n in ("memory_mb_min", "memory_mb_max", "memory_mb_step")] == [1024, 6144, 1024]
    assert [sv.fact(n).value for n in ("max_concurrency_min", "max_concurrency_max", "provisioned_concurrency_min",
                                       "provisioned_concurrency_max")] == [1, 200, 1, 200]
    assert {e.feature for e in sv.excludes} >= {"gpu", "data_capture", "multiple_variants", "vpc", "model_monitor",
                                                 "network_isolation", "multi_model"}
    assert (asy.payload_bytes.value, asy.processing_s.value, asy.synchronous.value) == (1_000_000_000, 3600, False)
    assert (batch.payload_bytes.value, batch.processing_s.value, batch.fact("max_instances").value) == \
        (100_000_000, 3600, 100)
    with pytest.raises(KeyError, match="no memory_mb_min for the real-time endpoint"):
        rt.fact("memory_mb_min")


@pytest.mark.parametrize(("itype", "vcpus", "memory", "gpus", "hourly"), [
    ("ml.t2.medium", 2, 4, 0, 0.056),
    ("ml.m5.large", 2, 8, 0, 0.115),
    ("ml.m5.xlarge", 4, 16, 0, 0.23),
    ("ml.c5.xlarge", 4, 8, 0, 0.204),
    ("ml.g4dn.xlarge", 4, 16, 1, 0.7364),
    ("ml.g5.xlarge", 4, 16, 1, 1.408),
    ("ml.p3.2xlarge", 8, 61, 1, 3.825),
    ("ml.inf2.xlarge", 4, 16, 0, 0.758),
])
def test_instance_types_from_the_issue(itype: str, vcpus: int, memory: float, gpus: int, hourly: float) -> None:
    f = load_facts()
    inst = f.instance(itype)
    assert inst is not None
    assert (inst.vcpus, inst.memory_gib, inst.gpus) == (vcpus, memory, gpus)
    assert f.prices["us-east-1"].instances[itype].hourly == hourly


def test_inferentia_is_an_accelerator_not_a_gpu() -> None:
    inst = load_facts().instance("ml.inf2.xlarge")
    assert inst is not None and inst.gpus == 0 and inst.neuron_devices == 1 and inst.accelerated


def test_cite_names_the_reference_the_source_and_the_date() -> None:
    f = load_facts()
    assert f.cite(f.pattern("realtime").payload_bytes) == (
        "source: InvokeEndpointInput.Body is at most 6,291,456 bytes, botocore 1.43.11 SageMaker Runtime API model, "
        "read 2026-11-26")
    assert f.cite(f.prices["us-east-1"].instances["ml.g5.xlarge"]).endswith("; confidence low")


@pytest.mark.parametrize(("itype", "expected"), [
    ("ml.g6.xlarge", True), ("ml.p5.48xlarge", True), ("ml.c7i.large", False), ("ml.inf2.xlarge", False),
    ("g5.xlarge", None), ("ml.", None),
])
def test_gpu_family_by_name(itype: str, expected: bool | None) -> None:
    assert gpu_family(itype) is expected


# Formatting ----------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("value", "text"), [
    (1027.84, "$1,027.84"), (0.0011, "$0.00"), (18268.564, "$18,268.56"), (None, "n/a"),
])
def test_usd(value: float | None, text: str) -> None:
    assert usd(value) == text


@pytest.mark.parametrize(("value", "text"), [
    (2_000_000, "2,000,000"), (0.05, "0.05"), (0.00002, "0.00002"), (20.8, "20.8"), (1027.84, "1,027.8"),
    (0.0083333, "0.008333"),
])
def test_num(value: float, text: str) -> None:
    assert num(value) == text


# The cost models -----------------------------------------------------------------------------------------------------

def test_always_on() -> None:
    assert always_on_monthly(1.408, 1, 730) == pytest.approx(1027.84)  # 1.408 x 730
    assert always_on_monthly(0.204, 2, 730) == pytest.approx(297.84)  # 2 x 0.204 x 730


def test_serverless_parts() -> None:
    # 9,125 requests x 0.2 s x 2 GB x $0.00002 = $0.073
    assert serverless_compute_monthly(9125, 0.2, 2048, 0.00002) == pytest.approx(0.073)
    # 9,125 x 4 KB in + 4 KB out = 73,000 KB = 0.0696182 GiB
    assert serverless_data_gb(9125, 4) == pytest.approx(0.0696182, rel=1e-6)
    # 1 x 2 GB x 730 h x 3600 s x $0.00002 = $105.12
    assert provisioned_monthly(1, 2048, 730, 0.00002) == pytest.approx(105.12)


def test_batch_instance_hours() -> None:
    # 30.41667 days x (1 job x 1 instance x 5 min + 300 requests / 5 rps = 60 s) = 30.41667 x 0.1 h = 3.041667 h
    assert batch_instance_hours(300, 5, 1, Assumptions()) == pytest.approx(3.0416667)
    # two instances, two jobs a day, 10 min start-up: 30.41667 x (2 x 2 x 10/60 + 60/3600) = 20.7847 h
    a = Assumptions(batch_jobs_per_day=2, instance_start_minutes=10)
    assert batch_instance_hours(300, 5, 2, a) == pytest.approx(30.4166667 * (4 * 10 / 60 + 60 / 3600))


def test_scale_to_zero_instance_hours() -> None:
    a = Assumptions()
    # 6,083.33 requests a month: r = 6,083.33 / 2,628,000 s, rT = 2.08333, e^-2.08333 = 0.1245145;
    # up 730 x 0.8754855 = 639.1044 h, starts 6,083.33 x 0.1245145 x 5/60 = 63.1219 h -> 702.2264 h
    assert scale_to_zero_instance_hours(6083.333333, 0.2, a) == pytest.approx(702.2264, abs=1e-3)
    # busy all month: capped at 730 h
    assert scale_to_zero_instance_hours(1_000_000, 100, a) == pytest.approx(730)
    # more processing than a month of one instance: the processing time (7,604,167 / 1 rps / 3600 = 2,112.27 h)
    assert scale_to_zero_instance_hours(7_604_166.67, 1, a) == pytest.approx(2112.2685, abs=1e-3)
    # rare traffic: 10 requests a month, each keeps an instance ~15 min and pays a 5 min start
    rare = scale_to_zero_instance_hours(10, 1, a)
    assert rare == pytest.approx(730 * (1 - math.exp(-10 / 2_628_000 * 900)) + 10 * math.exp(-10 / 2_628_000 * 900)
                                 * 5 / 60)
    assert 3.3 < rare < 3.34  # about 10 x (15 + 5) min


def test_instance_throughput() -> None:
    f = load_facts()
    g5 = f.instance("ml.g5.xlarge")
    cpu = Workload(requests_per_day=1, processing_s=0.2)
    gpu = Workload(requests_per_day=1, processing_s=0.2, gpu=True)
    declared = Workload(requests_per_day=1, processing_s=0.2, throughput_rps_per_instance=55)
    tp = must(instance_throughput(g5, cpu, declared=False))
    assert (tp.rps, tp.basis) == (20, "4 vCPUs \u00f7 0.2 s")
    assert must(instance_throughput(g5, gpu, declared=False)).rps == 5  # 1 GPU / 0.2 s
    assert must(instance_throughput(g5, declared, declared=True)).rps == 55
    assert must(instance_throughput(g5, declared, declared=False)).rps == 20  # not the declared type
    assert instance_throughput(None, cpu, declared=False) is None
    assert instance_throughput(g5, Workload(requests_per_day=1), declared=False) is None


# Prices and assumptions ----------------------------------------------------------------------------------------------

def test_price_book_from_the_table() -> None:
    book = price_book(load_facts(), "us-east-1")
    assert must(book.hourly("ml.g5.xlarge")).value == 1.408
    assert must(book.hourly("ml.g5.xlarge")).origin.startswith("facts table: source:")
    assert book.compute_per_gb_s is not None and book.compute_per_gb_s.value == 0.00002
    assert book.data_per_gb is not None and book.data_per_gb.value == 0.016
    assert book.provisioned_per_gb_s is not None and "confidence assumption" in book.provisioned_per_gb_s.origin


def test_price_overrides_replace_and_add() -> None:
    overrides = {"us-east-1": {"ml.g5.xlarge": 1.21, "ml.g6.xlarge": 0.98,
                               "serverless": {"provisioned_per_gb_s": 0.000004}},
                 "ap-south-1": {"ml.c5.xlarge": 0.23}}
    book = price_book(load_facts(), "us-east-1", overrides)
    assert must(book.hourly("ml.g5.xlarge")).value == 1.21
    assert must(book.hourly("ml.g5.xlarge")).origin == "team override in params.SRV001.prices"
    assert must(book.hourly("ml.g6.xlarge")).value == 0.98
    assert must(book.provisioned_per_gb_s).value == 0.000004
    assert must(book.compute_per_gb_s).value == 0.00002  # untouched
    mumbai = price_book(load_facts(), "ap-south-1", overrides)  # a Region the table has no sourced price for
    assert set(mumbai.instances) == {"ml.c5.xlarge"} and mumbai.compute_per_gb_s is None
    assert mumbai.no_price("ml.m5.large") == (
        "no price for ml.m5.large in ap-south-1 (the facts table has no sourced SageMaker price for this Region); "
        "add it under [tool.mlgate.prices.ap-south-1] (or the SRV001 parameter prices.ap-south-1)")


@pytest.mark.parametrize(("overrides", "message"), [
    ([1, 2], "prices must be a mapping of region"),
    ({"us-east-1": 3}, "prices.us-east-1 must be a mapping"),
    ({"us-east-1": {"ml.m5.xlarge": 0}}, "prices.us-east-1.ml.m5.xlarge is 0, not a positive price"),
    ({"us-east-1": {"ml.m5.xlarge": True}}, "is True, not a positive price"),
    ({"us-east-1": {"m5.xlarge": 0.2}}, "expected an instance type"),
    ({"us-east-1": {"serverless": 0.2}}, "prices.us-east-1.serverless must be a mapping"),
    ({"us-east-1": {"serverless": {"gb_s": 0.2}}}, "gb_s is not a serverless rate"),
])
def test_bad_price_overrides(overrides: Any, message: str) -> None:
    with pytest.raises(PriceError, match=message.replace(".", "\\.").replace("(", "\\(")):
        price_book(load_facts(), "us-east-1", overrides)


def test_assumptions_from_params() -> None:
    assert Assumptions.from_params({}) == Assumptions()
    a = Assumptions.from_params({"region": "eu-west-1", "hours_per_month": 720, "serverless_memory_mb": 4096.0,
                                 "cost_ratio": 5, "prices": {}})
    assert (a.region, a.hours_per_month, a.serverless_memory_mb, a.days_per_month) == ("eu-west-1", 720, 4096, 30)
    assert isinstance(a.serverless_memory_mb, int)
    for params in ({"region": ""}, {"hours_per_month": 0}, {"batch_jobs_per_day": "daily"},
                   {"serverless_memory_mb": 2048.5}, {"scale_in_minutes": True}):
        with pytest.raises(PriceError):
            Assumptions.from_params(params)


# The view the reports use --------------------------------------------------------------------------------------------

SEED: dict[str, Any] = {"version": 1, "serving": {
    "pattern": "realtime", "instance_type": "ml.g5.xlarge", "instance_count": 1,
    "traffic": {"requests_per_day": 300, "peak_rps": 1, "latency_p99_ms": 500, "payload_kb": 4,
                "processing_s": 0.2, "synchronous": True, "gpu": False}}}


def test_monthly_costs_for_the_seed_case() -> None:
    view = monthly_costs(Spec.model_validate(SEED))
    assert view.declared is not None and view.declared.shape == "ml.g5.xlarge \u00d7 1 always on"
    assert round(view.declared.monthly_usd or 0, 2) == 1027.84
    assert view.cheapest is not None and view.cheapest.shape == "serverless 2 GB with 1 provisioned"
    assert round(view.cheapest.monthly_usd or 0, 2) == 105.19  # 0.073 + 0.0011 + 105.12
    assert view.ratio == pytest.approx(1027.84 / 105.1941139, rel=1e-6)
    by_pattern = {e.pattern: e for e in view.options}
    assert set(by_pattern) == {"realtime", "serverless", "async", "batch"}
    assert by_pattern["async"].misfit == by_pattern["batch"].misfit == \
        "callers wait for the answer, and this pattern does not answer synchronously"
    # instance-based alternatives use the cheapest CPU type that is not burstable (ml.t2.medium is), as the model
    # needs no GPU: ml.m5.large
    assert by_pattern["batch"].shape == "batch transform on ml.m5.large \u00d7 1, 1 job a day"
    text = "\n".join(view.assumptions)
    assert "us-east-1 (the SRV001 region parameter: neither serving.region nor the infrastructure code states the " \
           "endpoint's Region) on-demand prices (the facts table, read 2026-11-26" in text
    assert "730 hours a month: 300 requests a day = 9,125 a month" in text
    assert "the 500 ms p99 is below serverless cold starts (1-240 s)" in text
    assert "provisioned concurrency priced at the on-demand GB-second rate" in text
    assert view.missing == ()


def test_monthly_costs_with_team_parameters() -> None:
    # 1 x $1.21 x 720 h = $871.20
    view = monthly_costs(Spec.model_validate(SEED), {"hours_per_month": 720,
                                                     "prices": {"us-east-1": {"ml.g5.xlarge": 1.21}}})
    assert view.declared is not None and round(view.declared.monthly_usd or 0, 2) == 871.20
    assert "provisioned concurrency priced" in "\n".join(view.assumptions)


def test_monthly_costs_without_traffic() -> None:
    view = monthly_costs(Spec.model_validate({"version": 1, "serving": {"pattern": "realtime"}}))
    assert view.declared is None and view.cheapest is None and view.ratio is None
    assert view.missing == ("serving.traffic.requests_per_day",)


def test_monthly_costs_lists_what_is_missing() -> None:
    spec = Spec.model_validate({"version": 1, "serving": {"pattern": "serverless",
                                                          "traffic": {"requests_per_day": 100}}})
    view = monthly_costs(spec)
    assert view.missing == ("serving.traffic.processing_s", "serving.traffic.peak_rps",
                            "serving.traffic.synchronous")
    assert view.declared is not None and view.declared.unpriced == "needs traffic.processing_s"


def test_choose_instance() -> None:
    facts = load_facts()
    book = price_book(facts, "us-east-1")
    spec = Spec.model_validate(SEED)
    cpu = Workload(requests_per_day=300, processing_s=0.2)
    gpu = Workload(requests_per_day=300, processing_s=0.2, gpu=True)
    assert must(choose_instance(spec, facts, book, cpu)).instance_type == "ml.m5.large"  # never burstable t2
    chosen = choose_instance(spec, facts, book, gpu)
    assert chosen is not None and (chosen.instance_type, chosen.declared) == ("ml.g5.xlarge", True)
    no_type = Spec.model_validate({"version": 1, "serving": {"pattern": "serverless"}})
    assert must(choose_instance(no_type, facts, book, gpu)).instance_type == "ml.g4dn.xlarge"
    assert choose_instance(no_type, facts, price_book(facts, "ap-south-1"), gpu) is None


def test_assumptions_list_every_price_used_and_its_origin() -> None:
    view = monthly_costs(Spec.model_validate(SEED), {"prices": {"us-east-1": {"ml.g5.xlarge": 1.21}}})
    prices = [line for line in view.assumptions if "/h (" in line or "/GB" in line]
    assert prices[0] == "ml.g5.xlarge $1.21/h (team override in params.SRV001.prices)"
    assert prices[1].startswith("ml.m5.large $0.115/h (facts table: source: ml.m5.large $0.115/h in several tables")
    assert any(line.startswith("serverless provisioned concurrency $0.00002/GB-s (facts table:")
               and line.endswith("confidence assumption)") for line in prices)
