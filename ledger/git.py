"""Everything fundledger asks of git lives here, run as `git` subprocesses."""

from __future__ import annotations

import subprocess
from pathlib import Path


def inside_work_tree(path: Path) -> bool:
    """Whether `path` lies inside a git work tree."""
    try:
        done = subprocess.run(
            ["git", "rev-parse", "--is-inside-work-tree"], cwd=path, capture_output=True, text=True, check=False
        )
    except FileNotFoundError:
        return False
    return done.returncode == 0 and done.stdout.strip() == "true"


def init(path: Path) -> None:
    """Make `path` a new git repository."""
    subprocess.run(["git", "init", "--quiet", str(path)], check=True, capture_output=True)
