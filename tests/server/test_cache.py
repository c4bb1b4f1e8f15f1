"""The page-result cache: an answer is served again while the workspace's files stay the same, computed
again after any write, and computed once for requests asking at the same time."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

from trueroi.server.cache import ResultCache, workspace_version


def test_an_answer_is_kept_until_the_workspace_changes(workspace) -> None:
    cache, calls = ResultCache(), []
    path = workspace.path

    def compute() -> int:
        calls.append(1)
        return len(calls)

    assert cache.get(path, "q", ("a",), compute) == 1
    assert cache.get(path, "q", ("a",), compute) == 1  # served again: nothing changed
    assert cache.get(path, "q", ("b",), compute) == 2  # other arguments, another answer
    before = workspace_version(path)
    with workspace.writing("a test write") as raw:
        raw.execute("CREATE TABLE probe AS SELECT 1 AS x")
        raw.execute("CHECKPOINT")
    assert workspace_version(path) != before
    assert cache.get(path, "q", ("a",), compute) == 3  # the warehouse changed: computed again
    cache.forget(path)
    assert cache.get(path, "q", ("a",), compute) == 4


def test_requests_asking_at_once_share_one_computation(workspace) -> None:
    cache, calls, started, release = ResultCache(), [], threading.Event(), threading.Event()

    def slow() -> str:
        calls.append(1)
        started.set()
        release.wait(10)  # answers only once the seven others are waiting for it
        return "answer"

    with ThreadPoolExecutor(8) as pool:
        first = pool.submit(cache.get, workspace.path, "q", (), slow)
        started.wait(5)
        others = [pool.submit(cache.get, workspace.path, "q", (), slow) for _ in range(7)]
        deadline = time.monotonic() + 10
        while cache.shared < 7 and time.monotonic() < deadline:
            time.sleep(0.01)
        release.set()
        answers = [first.result(), *(f.result() for f in others)]
    assert answers == ["answer"] * 8 and len(calls) == 1 and cache.shared == 7


def test_a_workspace_elsewhere_than_a_local_duckdb_file_is_not_cached(tmp_path) -> None:
    (tmp_path / "trueroi.toml").write_text('backend_url = "duckdb://:memory:"\n', encoding="utf-8")
    assert workspace_version(tmp_path) is None
    cache, calls = ResultCache(), []
    for _ in range(2):
        cache.get(tmp_path, "q", (), lambda: calls.append(1))
    assert len(calls) == 2
