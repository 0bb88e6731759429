"""Make the repository importable from the installed FAB (flwr copies the app
to $FLWR_HOME/apps/...): run.py passes the repo root as run config `repo-root`
and in PYTHONPATH."""

from __future__ import annotations

import os
import sys


def import_repo(run_config) -> None:
    root = str(run_config.get("repo-root", "") or os.environ.get("SECAGG_REPO_ROOT", ""))
    if root and root not in sys.path:
        sys.path.insert(0, root)
