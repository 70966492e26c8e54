"""Every file under good-values/ renders with helm 3 and helm 4 to the values its header lists,
and passes `python -m generator check`."""
from __future__ import annotations

import re

import pytest
import yaml

from case_files import GOOD_DIR, case_files, lookup, parse_expected, path_segments, read_case
from conftest import HELM_BINARIES, LWS_CRD, helm_template
from generator import cli

GOOD_FILES = case_files(GOOD_DIR)


def objects_by_kind(manifest: str) -> dict[str, dict]:
    """Index rendered objects by kind; the chart renders one object of each kind except Service."""
    indexed: dict[str, dict] = {}
    for document in yaml.safe_load_all(manifest):
        if document:
            indexed.setdefault(document["kind"], document)
    return indexed


def test_every_case_lists_rendered_values():
    empty = [path.name for path in GOOD_FILES if not read_case(path).rendered]
    assert empty == []


@pytest.mark.parametrize("helm_name", sorted(HELM_BINARIES))
@pytest.mark.parametrize("values_file", GOOD_FILES, ids=lambda path: path.stem)
def test_renders_expected_values(values_file, helm_name):
    case = read_case(values_file)
    objects = objects_by_kind(helm_template(HELM_BINARIES[helm_name], values_files=[values_file]))

    for expectation in case.rendered:
        actual = lookup(objects, path_segments(expectation.path))
        if expectation.operator == "~":
            assert isinstance(actual, str) and re.fullmatch(expectation.expected, actual), (expectation, actual)
        elif expectation.operator == "has":
            assert parse_expected(expectation.expected) in actual, (expectation, actual)
        else:
            assert actual == parse_expected(expectation.expected), (expectation, actual)


@pytest.mark.parametrize("values_file", GOOD_FILES, ids=lambda path: path.stem)
def test_check_accepts(values_file, monkeypatch, capsys):
    monkeypatch.setenv("HELM", HELM_BINARIES["helm4"])
    arguments = ["check", str(values_file)]
    if LWS_CRD.is_file():
        arguments += ["--crd", str(LWS_CRD)]

    exit_code = cli.main(arguments)

    assert exit_code == 0, capsys.readouterr().err
