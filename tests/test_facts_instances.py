"""The facts table's instance families and metric meanings: every current SageMaker hosting family with its
source, a type missing from the table derived from its name, and what each alarm metric counts."""

from __future__ import annotations

import pytest

from mlgate.facts import load_facts, size_vcpus

HOSTING_FAMILIES = ("c5", "c6i", "c7i", "m5", "m6i", "m7i", "r5", "r6i", "g4dn", "g5", "g6", "g6e", "p4d", "p5",
                    "inf1", "inf2", "trn1")


def test_every_current_hosting_family_is_listed_with_its_source() -> None:
    facts = load_facts()
    assert set(HOSTING_FAMILIES) <= set(facts.families)
    for name in HOSTING_FAMILIES:
        family = facts.families[name]
        assert "ec2-instance-types" in family.source and family.ref, name
        assert facts.cite(family).startswith("source: "), name


@pytest.mark.parametrize(("itype", "vcpus", "memory", "gpus", "devices", "accelerator"), [
    ("ml.c5.large", 2, 4, 0, 0, None),  # the example
    ("ml.c6i.4xlarge", 16, 32, 0, 0, None),
    ("ml.m7i.2xlarge", 8, 32, 0, 0, None),
    ("ml.r6i.xlarge", 4, 32, 0, 0, None),
    ("ml.g5.12xlarge", 48, 192, 4, 0, "NVIDIA A10G"),
    ("ml.g6.48xlarge", 192, 768, 8, 0, "NVIDIA L4"),
    ("ml.g6e.2xlarge", 8, 64, 1, 0, "NVIDIA L40S"),
    ("ml.p4d.24xlarge", 96, 1152, 8, 0, "NVIDIA A100"),
    ("ml.p5.48xlarge", 192, 2048, 8, 0, "NVIDIA H100"),
    ("ml.inf1.6xlarge", 24, 48, 0, 4, "AWS Inferentia"),
    ("ml.inf2.24xlarge", 96, 384, 0, 6, "AWS Inferentia2"),
    ("ml.trn1.32xlarge", 128, 512, 0, 16, "AWS Trainium"),
])
def test_a_type_missing_from_the_table_is_derived_from_its_name(itype: str, vcpus: int, memory: float, gpus: int,
                                                                devices: int, accelerator: str | None) -> None:
    facts = load_facts()
    assert itype not in facts.instances
    inst = facts.instance(itype)
    assert inst is not None and inst.derived
    assert (inst.vcpus, inst.memory_gib, inst.gpus, inst.neuron_devices, inst.accelerator) == \
        (vcpus, memory, gpus, devices, accelerator)
    assert facts.cite(inst).startswith(f"source: {itype} derived from its family and size")


def test_gpu_families_carry_their_accelerator_memory() -> None:
    facts = load_facts()
    memory = {t: facts.instance(t).accelerator_memory_gib  # type: ignore[union-attr]
              for t in ("ml.g4dn.2xlarge", "ml.g5.2xlarge", "ml.g6.2xlarge", "ml.g6e.2xlarge", "ml.p4d.24xlarge",
                        "ml.p5.48xlarge")}
    assert memory == {"ml.g4dn.2xlarge": 16, "ml.g5.2xlarge": 24, "ml.g6.2xlarge": 24, "ml.g6e.2xlarge": 48,
                      "ml.p4d.24xlarge": 40, "ml.p5.48xlarge": 80}


def test_the_table_rows_agree_with_their_family() -> None:
    """A row read from a source and the family rule give the same instance: the rule is not a guess."""
    facts = load_facts()
    checked = 0
    for name, row in facts.instances.items():
        derived = facts.derive(name)
        if derived is None:
            continue
        checked += 1
        assert (derived.vcpus, derived.memory_gib, derived.gpus, derived.neuron_devices) == \
            (row.vcpus, row.memory_gib, row.gpus, row.neuron_devices), name
    assert checked >= 7


@pytest.mark.parametrize("itype", ["ml.c5.metal", "ml.x9z.large", "c5.large", "ml.c5", "ml.g5.0xlarge"])
def test_names_that_are_no_hosting_type_are_not_derived(itype: str) -> None:
    assert load_facts().instance(itype) is None


def test_size_vcpus() -> None:
    assert [size_vcpus(s) for s in ("large", "xlarge", "2xlarge", "48xlarge", "metal", "medium")] == \
        [2, 4, 8, 192, None, None]


def test_metrics_are_named_for_what_aws_documents_them_to_count() -> None:
    facts = load_facts()
    four = facts.metric("Invocation4XXErrors")
    assert four is not None and four.counts == "requests that got a 4xx response"
    assert four.dimensions == ("EndpointName", "VariantName")
    assert "where the model returned a 4xx HTTP response code" in four.ref
    overhead = facts.metric("OverheadLatency")
    assert overhead is not None and "cold start" in overhead.counts and "serverless" in overhead.patterns
    assert facts.metric("ApproximateBacklogSize") is not None
    assert facts.metric("ApproximateBacklogSize").dimensions == ("EndpointName",)  # type: ignore[union-attr]


def test_availability_and_scale_from_zero_are_sourced() -> None:
    facts = load_facts()
    for pattern in ("realtime", "async"):
        fact = facts.pattern(pattern).fact("availability_min_instances")
        assert fact.value == 2 and "dg-best-practices" in fact.source
    assert "doc-async-autoscale" in facts.pattern("async").fact("scale_from_zero").source
