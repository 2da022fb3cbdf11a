"""What a public form answers, compared sender against sender ("Public forms reveal nothing"):
the whole response, the work done before it, and (loosely) the time it takes."""

from __future__ import annotations

import re
import statistics
import time
from collections.abc import Callable
from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext

QUEUED = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}


def answer(response: Any) -> tuple[Any, ...]:
    """Everything a sender can see: status, headers but the date, cookies, body."""
    headers = tuple(sorted((k, v) for k, v in response.headers.items() if k.lower() != "date"))
    cookies = tuple(
        sorted((name, morsel.OutputString()) for name, morsel in response.cookies.items())
    )
    return response.status_code, headers, cookies, response.content


def statements(queries: list[dict[str, str]]) -> list[str]:
    """Each statement's kind and first table, without its values: the shape of the work."""
    shapes = []
    for query in queries:
        sql = query["sql"]
        kind = sql.split(None, 1)[0].upper()
        table = re.search(r'(?:FROM|INTO|UPDATE)\s+"?(\w+)"?', sql)
        shapes.append(f"{kind} {table.group(1) if table else ''}".strip())
    return shapes


def work_before_the_answer(post: Callable[[], Any]) -> tuple[Any, list[str]]:
    """The response to ``post`` and the shape of every statement run before it was sent."""
    with CaptureQueriesContext(connection) as context:
        response = post()
    return response, statements(context.captured_queries)


def medians_ms(posts: dict[str, Callable[[], Any]], rounds: int) -> dict[str, float]:
    """The median time of each post, interleaved round by round so that a busy machine slows
    them all alike."""
    times: dict[str, list[float]] = {name: [] for name in posts}
    for _ in range(rounds):
        for name, post in posts.items():
            start = time.perf_counter()
            post()
            times[name].append((time.perf_counter() - start) * 1000)
    return {name: statistics.median(values) for name, values in times.items()}


def indistinguishable(medians: dict[str, float]) -> bool:
    """Loose on purpose (a loaded 2-core machine): within 5 ms plus a quarter of the fastest.
    The deterministic proof is :func:`statements`; this catches a gross regression."""
    fastest, slowest = min(medians.values()), max(medians.values())
    return slowest - fastest <= 5 + 0.25 * fastest


def run_queued() -> int:
    """Run what the views queued, as ``db_worker`` would (whose connection handling does not
    fit inside a test's transaction); returns how many tasks ran."""
    from django_tasks_db.models import DBTaskResult

    ran = 0
    while (job := DBTaskResult.objects.ready().order_by("enqueued_at").first()) is not None:
        job.claim("test")
        job.set_successful(job.task.call(*job.args_kwargs["args"], **job.args_kwargs["kwargs"]))
        ran += 1
    return ran
