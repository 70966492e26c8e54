"""Every file under bad-values/ is rejected by helm 3, helm 4 and `python -m generator check`.

Each file names the value path the rejection must point at (`# expect:`) and, where the three
tools share wording, a fragment of the message (`# message:`).
"""
from __future__ import annotations

import pytest

from case_files import BAD_DIR, case_files, path_segments, read_case
from conftest import HELM_BINARIES, LWS_CRD, RenderError, helm_template
from generator import cli

BAD_FILES = case_files(BAD_DIR)


def helm_mentions(path: str, output: str) -> bool:
    """Whether helm's error output points at the dotted value path.

    validateValues prints the dotted path itself. Schema errors use `group.size` (helm 3) or
    `at '/group/size'` (helm 4), and an unknown key is reported at its parent with the key named.
    """
    segments = path_segments(path)
    forms = [path, ".".join(segments), "'/" + "/".join(segments) + "'"]
    if any(form in output for form in forms):
        return True
    parent = segments[:-1]
    parent_forms = [".".join(parent) + ":", "'/" + "/".join(parent) + "'"] if parent else ["(root)", "at ''"]
    return segments[-1] in output and any(form in output for form in parent_forms)


def test_corpus_has_forty_cases():
    assert len(BAD_FILES) >= 40


def test_every_case_names_a_path():
    missing = [path.name for path in BAD_FILES if not read_case(path).expect_path]
    assert missing == []


@pytest.mark.parametrize("helm_name", sorted(HELM_BINARIES))
@pytest.mark.parametrize("values_file", BAD_FILES, ids=lambda path: path.stem)
def test_helm_rejects(values_file, helm_name):
    case = read_case(values_file)

    with pytest.raises(RenderError) as raised:
        helm_template(HELM_BINARIES[helm_name], values_files=[values_file])

    output = str(raised.value)
    assert helm_mentions(case.expect_path, output), output
    assert case.message.lower() in output.lower(), output


@pytest.mark.parametrize("values_file", BAD_FILES, ids=lambda path: path.stem)
def test_check_rejects(values_file, monkeypatch, capsys):
    case = read_case(values_file)
    monkeypatch.setenv("HELM", HELM_BINARIES["helm4"])
    arguments = ["check", str(values_file)]
    if LWS_CRD.is_file():
        arguments += ["--crd", str(LWS_CRD)]

    exit_code = cli.main(arguments)

    output = capsys.readouterr().err
    assert exit_code == 1, output
    assert f"{values_file}: $.{case.expect_path}:" in output, output
    assert case.message.lower() in output.lower(), output
