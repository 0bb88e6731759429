"""What the command-line scripts (server.py, client.py, secagg/run.py) share: the
argument groups they have in common (one place for their defaults) and the
script entry point. The scripts put the repository root on sys.path before they
import it."""

from __future__ import annotations

import sys
import traceback


def add_model_args(p, when=""):
    """--in-dim, --hidden, --activation: the MLP expert's shape; when says when they apply."""
    p.add_argument("--in-dim", type=int, default=13, help="input width" + when)
    p.add_argument("--hidden", type=int, default=32, help="hidden width" + when)
    p.add_argument("--activation", choices=("relu", "tanh"), default="tanh")


def add_training_args(p):
    """A site's local training: --epochs, --lr, --batch-size, --val-fraction."""
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--lr", type=float, default=0.1)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--val-fraction", type=float, default=0.2, help="last part of each slice held out for evaluation")


def add_tls_args(p):
    """--tls-ca, --tls-cert, --tls-key: PEM files, empty for none."""
    for flag in ("--tls-ca", "--tls-cert", "--tls-key"):
        p.add_argument(flag, default="")


def run(main, error_code):
    """Exit with main()'s return code; an unexpected exception prints its traceback
    and exits with error_code."""
    try:
        sys.exit(main())
    except SystemExit:
        raise
    except Exception:
        traceback.print_exc()
        sys.exit(error_code)
