"""Make the repository importable from the installed FAB (flwr copies the app
to $FLWR_HOME/apps/...): run.py passes the repo root as run config `repo-root`
and in PYTHONPATH. The apps import adapters.flower.* (model, data, events and
rounds, the round bookkeeping shared with adapters/flower/server.py) after calling
import_repo."""

from __future__ import annotations

import os
import sys


def import_repo(run_config) -> None:
    root = str(run_config.get("repo-root", "") or os.environ.get("SECAGG_REPO_ROOT", ""))
    if root and root not in sys.path:
        sys.path.insert(0, root)
