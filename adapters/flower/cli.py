"""What the command-line scripts (server.py, client.py, secagg/run.py) share."""

from __future__ import annotations

import sys
import traceback


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
