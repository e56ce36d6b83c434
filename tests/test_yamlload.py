"""The safe YAML loader: positions, YAML 1.2 scalars, and refusal of everything that is not plain data."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlgate.yamlload import MAX_BYTES, Pos, YamlError, as_text, load_yaml_file, parse_yaml


def test_positions_of_values_and_keys() -> None:
    doc = parse_yaml("a: 1\nb:\n  - x\n  - {c: 2}\n")
    assert doc.positions[("b", 1, "c")] == Pos(4, 9)
    assert doc.keys[("b",)] == Pos(2, 1)
    # a missing field is reported at its nearest written ancestor (the key line)
    assert doc.pos(("b", 1, "missing")) == Pos(4, 5)
    assert doc.pos(("nothing", "here")) == Pos(1, 1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("no", "no"),  # YAML 1.1 would make this False (the Norway problem)
        ("on", "on"),
        ("true", True),
        ("0123", "0123"),  # not octal
        ("1234e56", "1234e56"),  # a short commit sha stays text
        ("12", 12),
        ("-3", -3),
        ("~", None),
        ("2026-12-31", "2026-12-31"),
        ("'5'", "5"),
        ("!!str 5", "5"),
        ("!!int '7'", 7),
    ],
)
def test_scalars_follow_yaml_1_2(text: str, expected: object) -> None:
    assert parse_yaml(f"v: {text}\n").data["v"] == expected


def test_floats_remember_their_text() -> None:
    value = parse_yaml("v: 1.10\n").data["v"]
    assert value == 1.1
    assert as_text(value) == "1.10"
    assert as_text(True) is True


@pytest.mark.parametrize(
    ("text", "fragment", "line"),
    [
        ("a: 1\na: 2\n", "duplicate key 'a' (first defined at line 1)", 2),
        ("a: !!python/object:os.system {}\n", "tag 'tag:yaml.org,2002:python/object:os.system' is not allowed", 1),
        ("a: !!python/name:os.system\n", "is not allowed", 1),
        ("a: !custom 3\n", "tag '!custom' is not allowed", 1),
        ("a: !!set {x}\n", "is not allowed", 1),
        ("base: &b {x: 1}\nc:\n  <<: *b\n", "merge keys (<<) are not supported", 3),
        ("a: [1, 2\n", "YAML syntax error", 2),
        ("a:\n\t- 1\n", "YAML syntax error", 2),
        ("? [1, 2]\n: x\n", "mapping key must be a plain string", 1),
        ("a: !!int x\n", "'x' is not a valid int", 1),
    ],
)
def test_refused_documents_name_the_line(text: str, fragment: str, line: int) -> None:
    with pytest.raises(YamlError) as info:
        parse_yaml(text)
    assert fragment in info.value.message
    assert info.value.line == line


def test_alias_bomb_is_stopped() -> None:
    lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [{', '.join(['*' + prev] * 9)}]")
    with pytest.raises(YamlError, match="YAML bomb"):
        parse_yaml("\n".join(lines) + "\n")


def test_small_aliases_are_fine() -> None:
    doc = parse_yaml("a: &x [1, 2]\nb: *x\n")
    assert doc.data == {"a": [1, 2], "b": [1, 2]}


def test_deep_nesting_is_refused() -> None:
    with pytest.raises(YamlError, match=r"nest|deep"):
        parse_yaml("[" * 10_000 + "]" * 10_000)
    with pytest.raises(YamlError, match="nesting deeper"):
        parse_yaml("a:\n" + "".join("  " * i + f"k{i}:\n" for i in range(1, 120)) + "  " * 120 + "v: 1\n")


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"a: 1\n" + b"#" * (MAX_BYTES + 1), "larger than 1024 KiB"),
        (b"a: \xff\xfe\n", "not UTF-8"),
        (b"a: 1\x00\n", "binary file"),
    ],
)
def test_unreadable_files(tmp_path: Path, content: bytes, fragment: str) -> None:
    path = tmp_path / "f.yaml"
    path.write_bytes(content)
    with pytest.raises(YamlError, match=fragment):
        load_yaml_file(path)


def test_bom_is_tolerated_and_directories_refused(tmp_path: Path) -> None:
    path = tmp_path / "f.yaml"
    path.write_bytes(b"\xef\xbb\xbfa: 1\n")
    assert load_yaml_file(path).data == {"a": 1}
    with pytest.raises(YamlError, match="not a regular file"):
        load_yaml_file(tmp_path)
    with pytest.raises(YamlError, match="does not exist"):
        load_yaml_file(tmp_path / "missing.yaml")


def test_empty_document() -> None:
    assert parse_yaml("").data is None
    assert parse_yaml("# only a comment\n").data is None


# CloudFormation mode (cfn_tags=True) ---------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("!Ref Bucket", {"Ref": "Bucket"}),
        ("!Ref 'AWS::NoValue'", {"Ref": "AWS::NoValue"}),
        ("!Sub 'arn:aws:s3:::${Bucket}/*'", {"Fn::Sub": "arn:aws:s3:::${Bucket}/*"}),
        ("!Sub ['${A}-x', {A: !Ref P}]", {"Fn::Sub": ["${A}-x", {"A": {"Ref": "P"}}]}),
        ("!GetAtt Role.Arn", {"Fn::GetAtt": ["Role", "Arn"]}),
        ("!GetAtt Db.Endpoint.Address", {"Fn::GetAtt": ["Db", "Endpoint.Address"]}),
        ("!GetAtt [Role, Arn]", {"Fn::GetAtt": ["Role", "Arn"]}),
        ("!Join ['', [a, !Ref B]]", {"Fn::Join": ["", ["a", {"Ref": "B"}]]}),
        ("!If [IsProd, 3, !Ref 'AWS::NoValue']", {"Fn::If": ["IsProd", 3, {"Ref": "AWS::NoValue"}]}),
        ("!Select [0, !GetAZs '']", {"Fn::Select": [0, {"Fn::GetAZs": ""}]}),
        ("!FindInMap [M, !Ref 'AWS::Region', Image]", {"Fn::FindInMap": ["M", {"Ref": "AWS::Region"}, "Image"]}),
        ("!ImportValue shared-vpc", {"Fn::ImportValue": "shared-vpc"}),
        ("!Equals [!Ref Stage, prod]", {"Fn::Equals": [{"Ref": "Stage"}, "prod"]}),
        ("!Not [!Condition IsProd]", {"Fn::Not": [{"Condition": "IsProd"}]}),
        ("!And [!Condition A, !Or [!Condition B, !Condition C]]",
         {"Fn::And": [{"Condition": "A"}, {"Fn::Or": [{"Condition": "B"}, {"Condition": "C"}]}]}),
        ("!Base64 hello", {"Fn::Base64": "hello"}),
        ("!Cidr ['10.0.0.0/16', 6, 5]", {"Fn::Cidr": ["10.0.0.0/16", 6, 5]}),
        ("!Split [',', 'a,b']", {"Fn::Split": [",", "a,b"]}),
        ("!Ref 123", {"Ref": "123"}),  # the argument of a tagged scalar stays the text written
    ],
)
def test_cfn_short_tags_read_as_long_form(text: str, expected: object) -> None:
    assert parse_yaml(f"v: {text}\n", cfn_tags=True).data["v"] == expected


def test_cfn_tags_keep_positions() -> None:
    doc = parse_yaml("R:\n  Arn: !GetAtt Role.Arn\n  Name:\n    !Sub\n      - '${A}'\n      - A: !Ref P\n",
                     cfn_tags=True)
    assert doc.positions[("R", "Arn")] == Pos(2, 8)
    assert doc.pos(("R", "Arn", "Fn::GetAtt")) == Pos(2, 8)
    assert doc.positions[("R", "Arn", "Fn::GetAtt", 1)] == Pos(2, 8)
    assert doc.positions[("R", "Name", "Fn::Sub", 0)] == Pos(5, 9)
    assert doc.positions[("R", "Name", "Fn::Sub", 1, "A", "Ref")] == Pos(6, 12)


@pytest.mark.parametrize("text", ["v: !Ref X\n", "v: !Sub 'a'\n", "v: !GetAtt [A, B]\n"])
def test_cfn_tags_are_refused_by_default(text: str) -> None:
    with pytest.raises(YamlError, match="is not allowed"):
        parse_yaml(text)


@pytest.mark.parametrize("text", ["v: !Custom 3\n", "v: !!python/name:os.system\n", "v: !ref Bucket\n"])
def test_cfn_mode_still_refuses_other_tags(text: str) -> None:
    with pytest.raises(YamlError, match="is not allowed"):
        parse_yaml(text, cfn_tags=True)


def test_cfn_mode_keeps_the_plain_rules() -> None:
    doc = parse_yaml("a: no\nb: True\nc: 0123\n", cfn_tags=True)
    assert doc.data == {"a": "no", "b": True, "c": "0123"}
    with pytest.raises(YamlError, match="duplicate key"):
        parse_yaml("a: !Ref X\na: 2\n", cfn_tags=True)
