"""The CI-native formats as their consumers read them: `github` (GitHub Actions workflow commands,
parsed the way the runner parses them) and `gitlab` (GitLab Code Quality JSON, against the fields
GitLab documents: description, check_name, fingerprint, severity, location.path, location.lines.begin).
"""

from __future__ import annotations

import json
import re

import pytest

from .conftest import ROOT

MIXED = "fixtures/mixed-site.yaml"
KINDS = {"error", "warning", "notice"}
PROPERTIES = {"file", "line", "col", "endLine", "endColumn", "title"}


@pytest.fixture
def in_root(monkeypatch):
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1764000000")


def parse_command(line: str) -> tuple[str, dict, str]:
    """A workflow command as the Actions runner reads it (ActionCommand.TryParseV2): `::name k=v,k=v::data`,
    properties split at `,` and the first `=`, then unescaped (%0D %0A %3A %2C %25); data unescaped
    (%0D %0A %25)."""
    assert line.startswith("::"), line
    end = line.index("::", 2)
    head, data = line[2:end], line[end + 2:]
    name, _, props = head.partition(" ")
    properties = {}
    for pair in filter(None, props.split(",")):
        key, sep, value = pair.partition("=")
        assert sep, pair
        properties[key] = (value.replace("%0D", "\r").replace("%0A", "\n").replace("%3A", ":")
                           .replace("%2C", ",").replace("%25", "%"))
    return name, properties, data.replace("%0D", "\r").replace("%0A", "\n").replace("%25", "%")


def test_github_annotations_are_workflow_commands_with_file_line_and_title(in_root, run_cli):
    _, out, _ = run_cli("matrix", MIXED, "--format", "github")
    _, js, _ = run_cli("matrix", MIXED, "--format", "json")
    findings = [r for r in json.loads(js)["results"] if r["status"] in ("fail", "error")]
    lines = out.splitlines()
    assert 0 < len(lines) <= 50 and not parse_command(lines[-1])[2].endswith("(--format json:FILE)")
    stands = 0  # each annotation stands for its finding and the guest's others of the rule
    for line in lines:
        more = re.search(r"\(and ([0-9,]+) more findings? of ([A-Z0-9-]+) for ", parse_command(line)[2])
        stands += 1 + (int(more.group(1).replace(",", "")) if more else 0)
    assert stands == len(findings)
    order = []
    for line in lines:
        kind, props, message = parse_command(line)
        assert kind in KINDS and set(props) <= PROPERTIES
        assert props["file"] == MIXED and int(props["line"]) >= 1 and int(props["col"]) >= 1
        assert props["title"].split(": ")[0] in {f["rule"] for f in findings}
        assert message and "\n" not in message
        order.append(["error", "warning", "notice"].index(kind))
    assert order == sorted(order)  # errors first
    wanted = {"error": sum(1 for f in findings if f["severity"] == "error" or f["status"] == "error"),
              "warning": sum(1 for f in findings if f["severity"] == "warning" and f["status"] == "fail"),
              "notice": sum(1 for f in findings if f["severity"] == "info" and f["status"] == "fail")}
    assert set(wanted) == KINDS and all(
        (wanted[k] > 0) == any(parse_command(line)[0] == k for line in lines) for k in KINDS)


@pytest.mark.parametrize("text", ["a,b:c", "50% done", "two\nlines\r", "::error::forged", "\x1b[2Jcls"])
def test_github_escaping_round_trips_through_the_runner(text):
    from migcheck.report.common import terminal_safe
    from migcheck.report.github import command

    line = command("error", f"m {text}", file=f"dir/{text}.yaml", line=3, title=f"R: {text}")
    assert "\n" not in line and "\r" not in line and "\x1b" not in line
    kind, props, message = parse_command(line)
    assert kind == "error" and set(props) == {"file", "line", "title"}  # nothing forged a property
    assert props["file"] == f"dir/{terminal_safe(text)}.yaml" and props["title"] == f"R: {terminal_safe(text)}"
    assert message == f"m {terminal_safe(text)}"
    if "%" in text:
        assert "%25" in line


def test_github_caps_annotations_errors_first_and_counts_the_rest(run_cli, tmp_path):
    from bench.generate import generate

    estate = tmp_path / "e.json"
    estate.write_text(json.dumps(generate(8, 40, seed=3)))
    _, out, _ = run_cli("matrix", estate, "--format", "github")
    _, js, _ = run_cli("matrix", estate, "--format", "json")
    findings = [r for r in json.loads(js)["results"] if r["status"] in ("fail", "error")]
    assert len(findings) > 50
    parsed = [parse_command(line) for line in out.splitlines()]
    # a step shows 10 of each kind (actions/runner `_maxCountPerIssueType`): no line past that is written
    kinds = [kind for kind, _, _ in parsed]
    assert kinds.count("error") == 10 and kinds.count("warning") <= 10 and kinds.count("notice") <= 10, kinds
    *annotations, last = parsed
    order = [["error", "warning", "notice"].index(kind) for kind, _, _ in annotations]
    assert order == sorted(order)  # errors first
    keys = [(p["title"].split(": ")[0], p["title"].split(": ")[1]) for _, p, _ in annotations]
    assert len(keys) == len(set(keys))  # one annotation per rule and guest
    assert last[0] == "notice" and "more not annotated" in last[2] and "JSON" in last[2]
    stands = sum(1 + int((re.search(r"\(and ([0-9,]+) more", m) or [0, "0"])[1].replace(",", ""))
                 for _, _, m in annotations)
    counted = last[2].split(" more not annotated")[0]
    left = sum(int(n.replace(",", "")) for n in re.findall(r"(\d[\d,]*) (?:errors?|warnings?|notes?)\b", counted))
    assert stands + left == len(findings)


GITLAB_SCHEMA = {  # GitLab's "Code Quality report format": the fields it reads of the Code Climate spec
    "type": "array",
    "items": {
        "type": "object",
        "required": ["description", "check_name", "fingerprint", "severity", "location"],
        "properties": {
            "description": {"type": "string", "minLength": 1},
            "check_name": {"type": "string", "minLength": 1},
            "fingerprint": {"type": "string", "minLength": 1},
            "severity": {"enum": ["info", "minor", "major", "critical", "blocker"]},
            "location": {"type": "object", "required": ["path", "lines"],
                         "properties": {"path": {"type": "string", "pattern": "^[^/]"},
                                        "lines": {"type": "object", "required": ["begin"],
                                                  "properties": {"begin": {"type": "integer", "minimum": 1}}}}},
        },
    },
}


@pytest.mark.parametrize("args", [["matrix", MIXED], ["check", MIXED, "sapapp01", "vsp-e2"],
                                  ["audit", "fixtures/estate-broken.yaml"]])
def test_gitlab_code_quality_fits_the_documented_format(in_root, run_cli, args):
    import jsonschema

    _, out, _ = run_cli(*args, "--format", "gitlab")
    issues = json.loads(out)
    jsonschema.validate(issues, GITLAB_SCHEMA)
    _, js, _ = run_cli(*args, "--format", "json")
    findings = [r for r in json.loads(js)["results"] if r["status"] in ("fail", "error")]
    assert len(issues) == len(findings) > 0
    assert len({i["fingerprint"] for i in issues}) == len(issues)  # GitLab tells findings apart by fingerprint
    by_print = {f["fingerprint"]: f for f in findings}
    for i in issues:
        f = by_print[i["fingerprint"]]
        assert i["check_name"] == f["rule"] and f["message"] in i["description"]
        assert i["severity"] == ("info" if f.get("waiver") else
                                 {"error": "blocker", "warning": "major", "info": "info"}[f["severity"]]
                                 if f["status"] == "fail" else "critical")
        if "location" in f:
            assert i["location"] == {"path": f["location"]["file"], "lines": {"begin": f["location"]["line"]}}


def test_gitlab_and_github_are_in_the_registry_with_streaming_writers():
    from migcheck.report import FORMATS

    for name in ("github", "gitlab"):
        assert FORMATS[name].matrix_writer() is not None


def test_gitlab_keeps_5000_issues_errors_first_at_estate_scale(run_cli, tmp_path, monkeypatch):
    """One issue per finding made 293 MB of Code Quality for 200 x 2,000: past 5,000 findings the issues
    are SARIF's folded results, errors first, each naming what it stands for."""
    import jsonschema

    from bench.generate import generate

    monkeypatch.chdir(tmp_path)  # paths relative to the repository, as in CI
    estate = tmp_path / "e.json"
    estate.write_text(json.dumps(generate(24, 300, seed=3)))
    _, out, _ = run_cli("matrix", estate, "--format", "gitlab")
    _, js, _ = run_cli("matrix", estate, "--format", "json")
    findings = [r for r in json.loads(js)["results"] if r["status"] in ("fail", "error")]
    issues = json.loads(out)
    jsonschema.validate(issues, GITLAB_SCHEMA)
    assert len(findings) > 5_000 >= len(issues) > 0
    assert len({i["fingerprint"] for i in issues}) == len(issues)
    ranks = [["blocker", "critical", "major", "minor", "info"].index(i["severity"]) for i in issues]
    assert ranks[0] == 0 and ranks == sorted(ranks)
    assert any("folded per rule and" in i["description"] for i in issues)
    assert {i["check_name"] for i in issues} == {f["rule"] for f in findings}  # every rule found is there


def test_github_message_is_cut_to_what_the_runner_keeps_with_its_count_kept():
    """The runner keeps 4,096 characters of a message (`_maxIssueMessageLength`): a long name's message is cut
    before its end, which says how many findings the annotation stands for."""
    from migcheck.core.results import Result
    from migcheck.report.github import MAX_MESSAGE, annotation

    name = "g" + "x" * 9000
    r = Result(rule="R-1", severity="error", status="fail", message=f"{name} cannot move", fix="do it " * 500,
               subject={"guest": name, "source": "a", "target": "b", "mode": "offline"})
    kind, _, message = parse_command(annotation(r, "s.yaml", None, more=7))
    assert kind == "error" and len(message) <= MAX_MESSAGE, len(message)
    assert message.startswith("gxxx") and "…" in message
    assert message.endswith(f" (and 7 more findings of R-1 for {name[:199]}…)"), message[-300:]
    short = Result(rule="R-1", severity="error", status="fail", message="m", fix="f",
                   subject={"guest": "g", "source": "a", "target": "b", "mode": "offline"})
    assert parse_command(annotation(short, "s.yaml", None, more=1))[2] == "m Fix: f (and 1 more finding of R-1 for g)"


def test_a_waived_error_is_no_blocker_in_code_quality(in_root, run_cli, tmp_path):
    """A waived finding blocks nothing and fails no run: GitLab's `info`, its description saying the waiver (it was
    a `blocker` with no word of the waiver, which SARIF marks as an accepted suppression)."""
    waivers = tmp_path / "w.yaml"
    waivers.write_text("waivers:\n  - rule: GUEST-RUNNING\n    guest: web01\n    reason: change CHG-1 moves it stopped\n"
                       "    owner: ops\n    expires: 2027-01-31\n")
    code, out, err = run_cli("matrix", MIXED, "--waivers", waivers, "--as-of", "2026-12-01", "--format", "gitlab")
    assert code in (0, 1), err
    mine = [i for i in json.loads(out) if i["check_name"] == "GUEST-RUNNING" and "web01" in i["description"]]
    assert mine and all(i["severity"] == "info" and "waived: change CHG-1 moves it stopped" in i["description"]
                        for i in mine), mine
    others = [i for i in json.loads(out) if i["check_name"] != "GUEST-RUNNING" and i["severity"] == "blocker"]
    assert others  # findings not waived stay blockers


def test_a_waived_failure_is_a_notice_not_one_of_the_few_errors(in_root, run_cli):
    """Waived failures took the 10 `::error` lines a step shows and pushed out the blocking errors."""
    _, out, _ = run_cli("matrix", MIXED, "--waivers", "fixtures/waivers.yaml", "--format", "github")
    parsed = [parse_command(line) for line in out.splitlines()]
    waived = [(kind, m) for kind, _, m in parsed if "waived until" in m]
    assert waived and all(kind == "notice" for kind, _ in waived), waived
    assert any(kind == "error" for kind, _, _ in parsed)  # the blocking ones stay errors


@pytest.mark.parametrize("fmt", ["github", "gitlab"])
def test_a_snapshot_outside_the_source_root_is_said(run_cli, tmp_path, monkeypatch, fmt):
    """GitHub and GitLab place findings on the repository's files only: a snapshot outside the source root gave
    absolute paths and findings placed nowhere, without a word."""
    from .conftest import ROOT

    monkeypatch.chdir(tmp_path)
    _, _, err = run_cli("audit", ROOT / "fixtures" / "mixed-site.yaml", "--format", fmt)
    assert f"the {fmt} report names `{ROOT / 'fixtures' / 'mixed-site.yaml'}`, outside the source root" in err, err
    monkeypatch.chdir(ROOT)
    _, _, err = run_cli("audit", "fixtures/mixed-site.yaml", "--format", fmt)
    assert "outside the source root" not in err
