"""The contracts' periodic jobs (the scheduler imports each app's `tasks` module): the daily DECP file
(`tasks_decp`) and the retention purge (`tasks_retention`)."""

from ebourgogne.contracts import tasks_decp, tasks_retention  # noqa: F401
