"""The docs hold word for word: every shell example marked runnable in README.md and docs/*.md is run and checked.

The convention, for whoever writes docs:

- A fenced block whose info string holds the word `runnable` is run:

      ```console runnable
      $ fundledger --ledger ledgers/drone-coalition report members --csv
      member,status,since,role,...
      United Kingdom,active,2024-02-01,co-lead,...
      ```

- A line starting with `$ ` is a command (a line ending in `\\` goes on
  with the next); the lines after it, up to the next command, are the
  output it must print (stdout and stderr together), line for line. `...`
  inside a line stands for any text; a line that is only `...` for any
  number of lines. A command followed by no output lines is checked for its
  exit status only.
- A command exits 0, unless its output says otherwise: a line starting with
  `Error:` (click's usage errors) means exit status 2, one starting with
  `refused:`, `error:` or `corrupt:` exit status 1.
- Each block runs in one bash, in a folder of its own holding a copy of
  the repository's `ledgers/` (so `--ledger ledgers/drone-coalition` and
  `ledgers/examples/...` work, and `fundledger init fund` makes a new one),
  with a git identity, `NO_COLOR=1` and `COLUMNS=100`. Blocks do not see
  each other's changes.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
_FENCE = re.compile(r"^```(.*)$")
_MARK = "\x1efundledger-docs"


@dataclass(frozen=True)
class Step:
    command: str
    expected: tuple[str, ...]

    @property
    def status(self) -> int:
        """The exit status the expected output implies (see the module's docstring)."""
        if any(line.startswith("Error:") for line in self.expected):
            return 2
        if any(line.startswith(("refused:", "error:", "corrupt:")) for line in self.expected):
            return 1
        return 0


@dataclass(frozen=True)
class Example:
    file: str
    line: int
    steps: tuple[Step, ...]

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


def runnable_examples(path: Path, root: Path = ROOT) -> list[Example]:
    """The runnable blocks of one Markdown file, each cut into its commands and their expected output."""
    examples: list[Example] = []
    block: list[str] | None = None  # the lines of the runnable block being read
    inside, start = False, 0
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        fence = _FENCE.match(line.strip())
        if fence and not inside:
            inside, start = True, number
            block = [] if "runnable" in fence[1].split() else None
        elif fence and not fence[1].strip():
            if block is not None:
                examples.append(Example(str(path.relative_to(root)), start, _steps(block)))
            inside, block = False, None
        elif block is not None:
            block.append(line)
    return examples


def _steps(lines: list[str]) -> tuple[Step, ...]:
    steps: list[tuple[list[str], list[str]]] = []
    continued = False
    for line in lines:
        if continued:
            steps[-1][0].append(line)
        elif line.startswith("$ "):
            steps.append(([line[2:]], []))
        elif steps:
            steps[-1][1].append(line.rstrip())
        else:
            raise AssertionError(f"a runnable block starts with output, not a command: {line!r}")
        continued = (continued or line.startswith("$ ")) and line.endswith("\\")
    return tuple(Step("\n".join(command), tuple(expected)) for command, expected in steps)


def matches(expected: tuple[str, ...], got: list[str]) -> bool:
    """Whether output lines `got` are what `expected` says, with `...` for any text or any lines."""
    if not expected:
        return not got
    first, rest = expected[0], expected[1:]
    if first == "...":
        return any(matches(rest, got[skip:]) for skip in range(len(got) + 1))
    if not got:
        return False
    pattern = ".*".join(re.escape(part) for part in first.split("..."))
    return re.fullmatch(pattern, got[0]) is not None and matches(rest, got[1:])


EXAMPLES = [example for path in DOCS for example in runnable_examples(path)]


def test_enough_examples_are_runnable():
    """A meaningful share of the docs is checked: README and docs/ alike."""
    assert len(EXAMPLES) >= 10
    assert {e.file for e in EXAMPLES} >= {"README.md", "docs/CLI.md", "docs/REPORTS.md"}


def test_the_reader_of_blocks(tmp_path):
    doc = tmp_path / "x.md"
    doc.write_text("text\n```sh\n$ not run\n```\n```console runnable\n$ echo a \\\n  b\na b\n$ true\n```\n")
    (example,) = runnable_examples(doc, root=tmp_path)
    assert example.steps == (Step("echo a \\\n  b", ("a b",)), Step("true", ()))
    assert matches(("a ... c", "..."), ["a b c", "d", "e"]) and not matches(("a",), ["a", "b"])
    assert Step("x", ("refused: no",)).status == 1 and Step("x", ("Usage: x", "", "Error: y")).status == 2
    assert Step("x", ("Usage: x", "  help")).status == 0


@pytest.fixture
def sandbox(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A folder with a copy of ledgers/, and the environment the examples run in."""
    shutil.copytree(ROOT / "ledgers", tmp_path / "ledgers", ignore=shutil.ignore_patterns(".cache"))
    config = tmp_path / "gitconfig"
    config.write_text("[init]\n\tdefaultBranch = main\n")
    env = {key: value for key, value in os.environ.items() if not key.startswith(("FUNDLEDGER_", "GIT_"))}
    env.update(
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        NO_COLOR="1",
        COLUMNS="100",
        TERM="dumb",
        GIT_CONFIG_GLOBAL=str(config),
        GIT_CONFIG_NOSYSTEM="1",
        GIT_AUTHOR_NAME="Finance Officer",
        GIT_AUTHOR_EMAIL="officer@fund.example",
        GIT_COMMITTER_NAME="Finance Officer",
        GIT_COMMITTER_EMAIL="officer@fund.example",
    )
    return tmp_path, env


@pytest.mark.parametrize("example", EXAMPLES, ids=str)
def test_runnable_example(example: Example, sandbox):
    folder, env = sandbox
    assert shutil.which("fundledger", path=env["PATH"]), "fundledger is not installed next to this Python"
    script = "".join(f"printf '{_MARK} %s\\n' {i}\n{step.command}\nprintf '\\n{_MARK} end %s\\n' $?\n"
                     for i, step in enumerate(example.steps))  # fmt: skip
    done = subprocess.run(["bash", "-c", script], cwd=folder, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=300, check=False)  # fmt: skip
    outputs = re.findall(rf"{_MARK} (\d+)\n(.*?)\n?{_MARK} end (\d+)\n", done.stdout, re.DOTALL)
    assert len(outputs) == len(example.steps), f"{example}: the block stopped early:\n{done.stdout}"
    for step, (_, output, status) in zip(example.steps, outputs, strict=True):
        got = [line.rstrip() for line in output.splitlines()]
        while got and not got[-1]:
            got.pop()
        where = f"{example}: $ {step.command}"
        assert int(status) == step.status, f"{where}\nexit status {status}, not {step.status}:\n{output}"
        if step.expected:
            assert matches(step.expected, got), f"{where}\nexpected:\n" + "\n".join(step.expected) + (
                "\ngot:\n" + "\n".join(got)
            )


def test_readme_and_reports_md_name_every_report():
    """README's list of reports and docs/REPORTS.md keep up with the reports `fundledger report` takes."""
    from ledger.cli import REPORT_NAMES

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    listed = readme[readme.index("## Reports") :]
    listed = listed[: listed.index("\n## ", 1)]
    reports_md = (ROOT / "docs" / "REPORTS.md").read_text(encoding="utf-8")
    for name in REPORT_NAMES:
        assert f"`{name}" in listed, f"README's list of reports leaves out {name}"
        assert f"`{name}" in reports_md, f"docs/REPORTS.md leaves out {name}"


def test_every_environment_variable_is_documented_in_cli_md():
    """Every FUNDLEDGER_* variable the code reads (not completion's own _FUNDLEDGER_COMPLETE) is in docs/CLI.md."""
    names = {m for path in (ROOT / "ledger").rglob("*.py") for m in re.findall(r"(?<![A-Z_])FUNDLEDGER_[A-Z_]+", path.read_text())}
    cli_md = (ROOT / "docs" / "CLI.md").read_text(encoding="utf-8")
    assert names and all(f"| `{name}` |" in cli_md for name in names), names
