"""Skipwire: ``python main.py`` opens the app; ``python main.py COMMAND`` runs headless."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0].endswith(".json") and len(args) == 1:
        from builder import deps, shipped
        if deps.gui_missing():  # one line naming what to install
            return 2
        try:
            from gui.app import run
        except ModuleNotFoundError as exc:
            if exc.name not in ("gui", "gui.app"):
                raise
            from builder.cli import main as cli_main

            return cli_main(["summary", args[0] if args else str(shipped.shipped_graph())])
        return run(args)
    from builder.cli import main as cli_main

    return cli_main(args)


if __name__ == "__main__":
    sys.exit(main())
