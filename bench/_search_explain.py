"""A developer's tool for the portal's search: for each query string, the selector's wall time (minimum
and median over N calls), its CPU time per call (this process, plus the PostgreSQL backend's read from
/proc when the server runs on this machine) and, with PLAN=1, `EXPLAIN (ANALYZE, BUFFERS)` of every
statement the selector sends. Runs against an existing database, e.g. one kept by
`EBOURGOGNE_BENCH_SEARCH_KEEP` (bench/search.py):

    EBOURGOGNE_DATA_DIR=DIR/postgresql-1000000 DATABASE_URL=postgres://.../NAME_1000000 \\
        uv run python bench/_search_explain.py "q=maintenance+informatique" "cpv=55524000&department=89"

With PYTHONPATH pointing at another checkout's `src` (`git archive COMMIT src | tar -x -C DIR`), the same
command measures that code on the same database, side by side.
"""

from __future__ import annotations

import os
import statistics
import sys
import time


def main(queries: list[str]) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ebourgogne.settings")
    import django

    django.setup()
    from django.db import connection
    from django.http import QueryDict
    from django.test.utils import CaptureQueriesContext

    from ebourgogne.search import selectors
    from ebourgogne.search.forms import SearchForm

    calls = int(os.environ.get("N", "10"))

    def ticks() -> int:
        if connection.vendor != "postgresql":
            return 0
        pid = connection.connection.info.backend_pid
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()  # noqa: PTH123, SIM115
        return int(fields[11]) + int(fields[12])

    for query in queries:
        form = SearchForm(QueryDict(query))
        if not form.is_valid():
            raise SystemExit(f"{query!r}: {form.errors}")
        criteria, page = form.criteria(), form.cleaned_data["page"]
        for _ in range(2):
            found = selectors.search(criteria, page=page)
        times = []
        cpu_started, db_started = time.process_time(), ticks()
        for _ in range(calls):
            started = time.perf_counter()
            selectors.search(criteria, page=page)
            times.append((time.perf_counter() - started) * 1000)
        cpu = (time.process_time() - cpu_started) / calls * 1000
        db = (ticks() - db_started) / os.sysconf("SC_CLK_TCK") / calls * 1000
        print(
            f"{query or '(default listing)'}: {found.count} results; wall min {min(times):.1f} ms, "
            f"median {statistics.median(times):.1f} ms; CPU {cpu:.1f} + database {db:.1f} = {cpu + db:.1f} ms"
        )
        if os.environ.get("PLAN"):
            with CaptureQueriesContext(connection) as captured:
                selectors.search(criteria, page=page)
            for statement in captured.captured_queries:
                print("---", statement["sql"][:2000])
                with connection.cursor() as cursor:
                    cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement["sql"])
                    print("\n".join(row[0] for row in cursor.fetchall()))


if __name__ == "__main__":
    main(sys.argv[1:])
