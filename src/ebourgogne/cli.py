"""The `ebourgogne` command: Django's manage.py plus the platform's own commands.

`ebourgogne --help` lists every command. `--data-dir PATH`, given anywhere on the command line, is the
same as setting EBOURGOGNE_DATA_DIR, which every command honours.
"""

from __future__ import annotations

import os
import sys


def _take_data_dir(argv: list[str]) -> list[str]:
    """Move `--data-dir PATH` / `--data-dir=PATH` into the environment before settings load."""
    remaining: list[str] = []
    iterator = iter(argv)
    for arg in iterator:
        if arg == "--data-dir":
            value = next(iterator, None)
            if value is None:
                sys.exit("ebourgogne: --data-dir needs a path")
            os.environ["EBOURGOGNE_DATA_DIR"] = value
        elif arg.startswith("--data-dir="):
            os.environ["EBOURGOGNE_DATA_DIR"] = arg.split("=", 1)[1]
        else:
            remaining.append(arg)
    return remaining


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv if argv is None else argv)
    argv = [argv[0], *_take_data_dir(argv[1:])]
    argv[0] = "ebourgogne"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ebourgogne.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(argv)


if __name__ == "__main__":
    main()
