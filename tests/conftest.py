"""Fixtures shared by every test package."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

from trueroi.workspace import Workspace, WorkspaceConfig

# Property tests draw the same examples on every run (a test run that passed passes again, so CI does not
# fail on a new random example); TRUEROI_HYPOTHESIS=explore draws new ones, to hunt for bugs.
settings.register_profile("fixed", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("TRUEROI_HYPOTHESIS", "fixed"))


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    """An empty workspace (EUR, Europe/Berlin) in a temporary directory."""
    ws = Workspace.init(tmp_path / "ws", WorkspaceConfig(name="test", brand_terms=["acme"]))
    yield ws
    ws.close()


@pytest.fixture(scope="session")
def demo_shop(tmp_path_factory):
    """A small demo shop (scale 0.03, seed 7) loaded into a workspace, shared by the whole test run."""
    from types import SimpleNamespace

    from trueroi.demo import demo_config, generate, load_into

    root = tmp_path_factory.mktemp("demo")
    files = generate(root / "demo-data", seed=7, scale=0.03)
    ws = Workspace.init(root / "ws", demo_config())
    load_into(ws, files)
    yield SimpleNamespace(ws=ws, files=files, truth=files.truth)
    ws.close()


@pytest.fixture(scope="session")
def spark():
    """One PySpark local-mode session per test process (it takes 30-40 s to start; `make test` has two)."""
    import warnings

    from pyspark.sql import SparkSession

    # PySpark starts its JVM with subprocess and a preexec_fn, which forks; JAX (loaded by earlier tests of
    # the same worker) warns at any fork. The child execs the JVM at once, so the deadlock JAX fears cannot
    # happen there.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "os.fork\\(\\) was called", RuntimeWarning)
        session = _spark_session(SparkSession)
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def _spark_session(SparkSession):  # noqa: ANN001, ANN202, N803
    return (
        SparkSession.builder.master("local[2]")
        .appName("trueroi-tests")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.default.parallelism", "2")
        .getOrCreate()
    )


# -- the web app and its server home (tests/server, tests/web) --------------------------------------------
class PostgresServer:
    """A throwaway PostgreSQL server on 127.0.0.1 (Debian's postgresql: initdb and pg_ctl), run as an
    unprivileged user when the tests run as root (PostgreSQL refuses to run as root)."""

    def __init__(self, root: Path) -> None:
        import socket

        self.root, self.bin = root, _postgres_bin()
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.databases = 0

    def _run(self, *args: str) -> None:
        import subprocess

        command = list(args)
        if os.geteuid() == 0:
            command = ["runuser", "-u", "nobody", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120)
        if done.returncode:
            log = self.root / "server.log"
            detail = log.read_text() if log.exists() else ""
            raise RuntimeError(f"{' '.join(args)} failed: {done.stdout}{done.stderr}{detail}")

    def start(self) -> None:
        import pwd

        if os.geteuid() == 0:
            nobody = pwd.getpwnam("nobody")
            os.chown(self.root, nobody.pw_uid, nobody.pw_gid)
        self._run(
            str(self.bin / "initdb"),
            "-D",
            str(self.root / "data"),
            "-U",
            "trueroi",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C",
        )
        options = f"-h 127.0.0.1 -p {self.port} -k {self.root} -c fsync=off -c synchronous_commit=off"
        self._run(
            str(self.bin / "pg_ctl"),
            "-D",
            str(self.root / "data"),
            "-l",
            str(self.root / "server.log"),
            "-o",
            options,
            "-w",
            "-t",
            "60",
            "start",
        )

    def stop(self) -> None:
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.root / "data"), "-m", "immediate", "-w", "stop")

    def new_database(self) -> str:
        """A new, empty database; its SQLAlchemy URL (psycopg 3)."""
        import psycopg

        self.databases += 1
        name = f"home{self.databases}"
        with psycopg.connect(
            f"host=127.0.0.1 port={self.port} user=trueroi dbname=postgres", autocommit=True
        ) as c:
            c.execute(f"CREATE DATABASE {name}")
        return f"postgresql+psycopg://trueroi@127.0.0.1:{self.port}/{name}"


def _postgres_bin() -> Path:
    import shutil

    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if found:
        return found[-1].parent
    if shutil.which("initdb"):
        return Path(shutil.which("initdb")).parent
    pytest.fail("PostgreSQL's initdb is missing: run 'make sysdeps' (Debian package postgresql)")


@pytest.fixture(scope="session")
def postgres_server():
    """One PostgreSQL server for the test run (started on first use); ``new_database()`` gives a URL."""
    import shutil
    import tempfile

    root = Path(tempfile.mkdtemp(prefix="trueroi-pg-"))  # not under pytest's root-only 0700 directory
    server = PostgresServer(root)
    try:
        server.start()
        yield server
    finally:
        if (root / "data" / "postmaster.pid").exists():
            server.stop()
        shutil.rmtree(root, ignore_errors=True)


# PostgreSQL runs are slow ones: `-m "not slow"` starts no PostgreSQL server; CI runs them.
@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=[pytest.mark.postgres, pytest.mark.slow])])
def server_home(request, tmp_path):
    """An empty server home whose metadata database is SQLite, then (second run) a real PostgreSQL."""
    from trueroi.server import ServerHome

    url = request.getfixturevalue("postgres_server").new_database() if request.param == "postgresql" else None
    home = ServerHome.init(tmp_path / "home", database_url=url)
    yield home
    home.close()


# Names only one of the two web workspaces holds, to prove a response carries no data of the other.
WEB_MARKERS = {"acme": "_acme_only", "globex": "_globex_only"}
HOSTILE_CHANNEL = 'Display <i class="x">&</i>'  # globex's Display channel: must be escaped on every page


@pytest.fixture(scope="session")
def web_workspaces(tmp_path_factory):
    """Two tiny demo shops (scale 0.02) as workspaces ``acme`` (seed 1) and ``globex`` (seed 2).

    Attributes: ``paths`` (name -> directory), ``files`` (name -> the generated DemoFiles), ``markers``
    (name -> the ending of every campaign name of that workspace, found in no other) and ``hostile_channel``
    (globex's Display channel, named with markup)."""
    from types import SimpleNamespace

    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from trueroi.demo import demo_config, generate, load_into

    root = tmp_path_factory.mktemp("web-workspaces")
    out, files_of = {}, {}
    for seed, name in enumerate(WEB_MARKERS, start=1):
        files = generate(root / f"{name}-data", seed=seed, scale=0.02)
        for table, columns in (("ad_performance", ("campaign_name",)), ("touchpoints", ("campaign",))):
            for part in files.parts(table):
                data = pq.read_table(part)
                for column in columns:
                    named = pc.binary_join_element_wise(data[column], pa.scalar(WEB_MARKERS[name]), "")
                    data = data.set_column(data.schema.get_field_index(column), column, named)
                if name == "globex":
                    hostile = pc.replace_substring(data["channel"], "Display", HOSTILE_CHANNEL)
                    data = data.set_column(data.schema.get_field_index("channel"), "channel", hostile)
                pq.write_table(data, part)
        with Workspace.init(root / name, demo_config(name)) as ws:
            load_into(ws, files)
        out[name], files_of[name] = root / name, files
    return SimpleNamespace(paths=out, files=files_of, markers=WEB_MARKERS, hostile_channel=HOSTILE_CHANNEL)


@pytest.fixture
def run_cli(capsys, monkeypatch):
    """Run ``trueroi ARGS...`` in this process; returns (exit code, stdout, stderr). ``stdin=`` text is
    what the command reads from a pipe."""
    import io

    from trueroi.cli.main import main

    monkeypatch.setenv("COLUMNS", "200")

    def invoke(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
        if stdin is not None:
            monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        try:
            main(list(args))
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        out = capsys.readouterr()
        return code, out.out, out.err

    return invoke
