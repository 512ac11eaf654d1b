"""The GitHub workflow users copy runs the commands CI (.ci/run), the Makefile and the README use."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import click
import yaml

from aimgen.cli import cli
from aimgen.diff.report import MARKER

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW = ROOT / ".github/workflows/aimgen.yml"


def workflow() -> dict[Any, Any]:
    return yaml.safe_load(WORKFLOW.read_text())


def steps() -> list[dict[str, Any]]:
    [job] = workflow()["jobs"].values()
    return list(job["steps"])


def commands() -> list[list[str]]:
    """Every command line of every `run:` step, split like a shell would (GitHub expressions as one word)."""
    out: list[list[str]] = []
    for step in steps():
        for line in step.get("run", "").splitlines():
            line = re.sub(r"\$\{\{[^}]*\}\}", "EXPR", line.split(" #")[0]).strip()
            if line and not line.startswith("#"):
                out.append(shlex.split(line.split(">")[0]))
    return out


def make_targets() -> set[str]:
    return set(re.findall(r"^([a-z][\w-]*):", (ROOT / "Makefile").read_text(), re.MULTILINE))


def used_elsewhere() -> str:
    return (ROOT / ".ci/run").read_text() + (ROOT / "README.md").read_text()


def test_triggers_permissions_and_full_history() -> None:
    data = workflow()
    on = data.get("on", data.get(True))  # YAML 1.1 reads the bare key `on` as true
    assert "pull_request" in on and on["push"]["branches"] == ["main"]
    [job] = data["jobs"].values()
    assert job["permissions"] == {"contents": "read", "pull-requests": "write"}
    checkout = next(s for s in steps() if s.get("uses", "").startswith("actions/checkout@"))
    assert checkout["with"]["fetch-depth"] == 0


def test_make_targets_exist_and_are_the_ones_ci_and_the_readme_use() -> None:
    targets = [c[1] for c in commands() if c[0] == "make"]
    assert targets == ["setup", "check", "kubeconform"]
    assert set(targets) <= make_targets()
    text = used_elsewhere()
    for target in targets:
        assert f"make {target}" in text or target == "setup", target
    ci = (ROOT / ".ci/run").read_text()
    assert "make check" in ci and "make kubeconform" in ci  # the gates CI applies to rendered/ run here too


def test_aimgen_commands_and_flags_exist_and_are_documented() -> None:
    readme = (ROOT / "README.md").read_text()
    found = [c for c in commands() if c[0].endswith("aimgen")]
    assert [c[1] for c in found] == ["diff", "validate"]
    for argv in found:
        assert argv[0] == ".venv/bin/aimgen"  # what `make setup` installs
        command = cli.commands[argv[1]]
        options = {opt for p in command.params if isinstance(p, click.Option) for opt in p.opts}
        flags = [a for a in argv[2:] if a.startswith("--")]
        assert set(flags) <= options, (argv, options)
        assert f"aimgen {argv[1]}" in readme
        for flag in flags:
            assert flag in readme, flag


def test_diff_runs_on_pull_requests_and_is_posted_by_marker() -> None:
    diff = next(s for s in steps() if "aimgen diff" in s.get("run", ""))
    assert diff["if"] == "github.event_name == 'pull_request'"
    assert "--format markdown" in diff["run"] and "github.base_ref" in diff["run"]
    post = next(s for s in steps() if s.get("uses", "").startswith("actions/github-script@"))
    assert MARKER in post["with"]["script"] and "aimgen-diff.md" in post["with"]["script"]


def test_gates_run_after_the_diff_is_posted() -> None:
    names = [s.get("name", s.get("uses", "")) for s in steps()]
    assert names.index("Post the diff") < names.index("rendered/ is up to date")
