"""`ebourgogne bench --list` and `ebourgogne bench NAME [--quick]`.

The benchmarks live in the `bench/` folder at the top of the checkout (one module per benchmark, with
NAME, DESCRIPTION and run(quick) -> dict). The last line printed is one JSON object with at least
name, ratio, goal and met; progress goes to standard error. Each result is also kept in bench/results/.
"""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from django.core.management.base import BaseCommand, CommandError

import ebourgogne
from ebourgogne.core import clock

REQUIRED_KEYS = ("name", "ratio", "goal", "met")


def checkout_root() -> Path:
    """The repository the package is installed from (src/ebourgogne -> the checkout)."""
    return Path(ebourgogne.__file__).resolve().parents[2]


def bench_dir() -> Path:
    folder = checkout_root() / "bench"
    if not (folder / "__init__.py").exists():
        raise CommandError(f"No bench/ folder in {checkout_root()}: benchmarks run from a checkout of the repository.")
    return folder


def discover() -> dict[str, ModuleType]:
    folder = bench_dir()
    root = str(folder.parent)
    if root not in sys.path:
        sys.path.insert(0, root)
    found: dict[str, ModuleType] = {}
    for path in sorted(folder.glob("*.py")):
        if path.name.startswith("_"):
            continue
        module = importlib.import_module(f"bench.{path.stem}")
        if hasattr(module, "NAME") and callable(getattr(module, "run", None)):
            found[module.NAME] = module
    return found


class Command(BaseCommand):
    help = "List the benchmarks (--list) or run one: the last line printed is its JSON result."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser) -> None:
        parser.add_argument("name", nargs="?", help="Benchmark to run.")
        parser.add_argument("--list", action="store_true", help="List the benchmarks and exit.")
        parser.add_argument("--quick", action="store_true", help="Short run (a smoke test, not a measure).")

    def handle(self, *args: Any, name: str | None, list: bool, quick: bool, **options: Any) -> None:
        benchmarks = discover()
        if list or not name:
            for module in benchmarks.values():
                self.stdout.write(f"{module.NAME}: {module.DESCRIPTION}")
            return
        if name not in benchmarks:
            raise CommandError(f"Unknown benchmark {name!r}. Known: {', '.join(benchmarks) or 'none'}.")
        result = benchmarks[name].run(quick=quick)
        missing = [key for key in REQUIRED_KEYS if key not in result]
        if missing:
            raise CommandError(f"Benchmark {name} returned no {', '.join(missing)}.")
        result.setdefault("measured_at", clock.now().isoformat(timespec="seconds"))
        line = json.dumps(result, ensure_ascii=False, separators=(",", ":"))
        self._keep(name, line)
        self.stdout.write(line)

    def _keep(self, name: str, line: str) -> None:
        folder = bench_dir() / "results"
        try:
            folder.mkdir(exist_ok=True)
            stamp = clock.now().strftime("%Y%m%dT%H%M%SZ")
            (folder / f"{name}-{stamp}.json").write_text(line + "\n")
        except OSError as error:  # a read-only checkout still prints its result
            self.stderr.write(f"Result not kept in {folder}: {error}")
