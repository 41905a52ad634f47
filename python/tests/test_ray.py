"""Bulk work on Ray (`tracemark.ray`, `tracemark batch`) on a real Ray cluster of two nodes
on this machine, each result checked row for row against the single-process CLI on the
same input: detection, credential verification, tracing and attribution (report hashes
equal when the report's time is fixed). A worker killed mid-job loses and duplicates no
row; bad rows (not UTF-8, empty, oversized, not JSON, without text) get an error, never a
failed job; a missing Python, package or Ray each get their fix.

The inputs are the demo's work folder (`tracemark demo`): its texts, a marked text cut at
several lengths, documents of its corpus, and bad rows, in a JSON Lines file and a Parquet
file of one folder.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import tracemark
import tracemark.ray as tr

# A cluster started by a test reports nothing home, and stays on the loopback interface
# (Ray otherwise turns 127.0.0.1 into the machine's address; read when ray is imported).
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"

import ray  # noqa: E402

AS_OF = "2026-12-01"
AT = "2026-12-01T10:00:00Z"
#: The limit the jobs are given: the signed demo texts (16 kB) pass, OVERSIZED does not.
MAX_BYTES = 20_000
OVERSIZED = b"word " * 5_000

#: Bad rows by id, and what their error says.
BAD = {
    "empty": "the text is empty",
    "not-utf8-jsonl": "not UTF-8 text",
    "not-utf8-parquet": "not UTF-8 text",
    "oversized": "larger than the limit",
    "no-text": "no `text` field",
}
#: A line that is not JSON has no id of its own: it is named FILE:LINE.
NOT_JSON = "is not JSON"


@pytest.fixture(scope="module")
def texts(demo) -> dict[str, bytes]:
    """The good rows, by id."""
    rows = {f.stem: f.read_bytes() for f in sorted(demo.glob("*.txt"))}
    marked = (demo / "1-mark-at-the-source.txt").read_text()
    unmarked = (demo / "1b-unmarked-output.txt").read_text()
    for n in (150, 300, 600):
        rows[f"marked-first-{n}"] = marked[:n].rsplit(" ", 1)[0].encode()
    rows["marked-pasted-in-unmarked"] = (unmarked[:500] + marked[:500] + unmarked[500:]).encode()
    for doc in sorted((demo / "corpus/texts").glob("*/*.txt"))[::6]:
        rows[f"corpus/{doc.parent.name}/{doc.stem}"] = doc.read_bytes()
    return rows


@pytest.fixture(scope="module")
def inputs(texts, tmp_path_factory) -> tuple[Path, Path]:
    """A folder with half the rows as JSON Lines and half as Parquet, bad rows in both;
    and a folder with one file per good row, named by its id, for the CLI."""
    folder = tmp_path_factory.mktemp("inputs")
    ids = sorted(texts)
    lines = [json.dumps({"id": i, "text": texts[i].decode()}).encode() for i in ids[::2]]
    lines += [
        b'{"id": "empty", "text": ""}',
        b'{"id": "not-utf8-jsonl", "text": "caf\xe9 au lait"}',
        json.dumps({"id": "oversized", "text": OVERSIZED.decode()}).encode(),
        b'{"id": "no-text", "title": "a record without its text"}',
        b"this line is not JSON",
    ]
    (folder / "part-1.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    rest = ids[1::2]
    table = pa.table(
        {
            "id": rest + ["not-utf8-parquet"],
            "text": pa.array([texts[i] for i in rest] + [b"caf\xe9 au lait"], pa.binary()),
        }
    )
    pq.write_table(table, folder / "part-2.parquet")
    files = tmp_path_factory.mktemp("files")
    for i in ids:
        (files / i).parent.mkdir(parents=True, exist_ok=True)
        (files / i).write_bytes(texts[i])
    return folder, files


@pytest.fixture(scope="module")
def cluster():
    """A Ray cluster of two nodes on this machine (loopback only), one CPU and a small
    object store each, which the driver joins."""
    from ray.cluster_utils import Cluster

    node = {"num_cpus": 1, "object_store_memory": 80 << 20, "node_ip_address": "127.0.0.1"}
    c = Cluster(initialize_head=True, head_node_args={**node, "include_dashboard": False})
    c.add_node(**node)
    ray.init(address=c.address)
    c.wait_for_nodes()
    assert len([n for n in ray.nodes() if n["Alive"]]) == 2
    yield c
    ray.shutdown()
    c.shutdown()


def cli_json(cli, *args, cwd) -> dict:
    """`tracemark ARGS --json` run in `cwd` (so that a report names its file as the job
    names the row: by its id)."""
    done = subprocess.run(
        [cli.path, *map(str, args), "--json"], capture_output=True, text=True, cwd=cwd,
        env=cli.env, timeout=120,
    )
    assert done.returncode in (0, 1), done.stderr
    return json.loads(done.stdout)


def read(output: Path) -> dict[str, dict]:
    """The job's rows by id, checking that no id appears twice."""
    rows = pq.read_table(output).to_pylist()
    counts = Counter(r["id"] for r in rows)
    assert max(counts.values()) == 1, [i for i, n in counts.items() if n > 1]
    return {r["id"]: r for r in rows}


def check_rows(rows: dict[str, dict], texts: dict[str, bytes], fields: list[str]) -> None:
    """Every input record has its one row: good rows a verdict and no error, bad rows
    their error and no verdict."""
    not_json = [i for i, r in rows.items() if r["error"] and NOT_JSON in r["error"]]
    # The last line of part-1.jsonl (its records: half the good rows, then the bad ones).
    assert not_json == [f"{not_json[0].rsplit(':', 1)[0]}:{len(sorted(texts)[::2]) + 5}"]
    assert not_json[0].rsplit(":", 1)[0].endswith("part-1.jsonl")
    assert set(rows) == set(texts) | set(BAD) | set(not_json)
    for i, expected in BAD.items():
        assert expected in rows[i]["error"], (i, rows[i]["error"])
    for i in list(BAD) + not_json:
        assert all(rows[i][f] is None for f in fields), rows[i]
    for i in texts:
        assert rows[i]["error"] is None, (i, rows[i]["error"])


def run(task, inputs, out, **options):
    return tr.run(
        task, inputs[0], out, address="auto", workers=2, block_rows=4, batch_size=2,
        max_bytes=MAX_BYTES, **options,
    )


# -- the command line's front and its errors (before the cluster starts) -----------------


def test_the_cli_runs_a_batch_on_a_local_ray(cli, demo, inputs, texts, tmp_path):
    out = tmp_path / "verdicts"
    done = subprocess.run(
        [cli.path, "batch", "detect", "--ray", "local", "--python", sys.executable,
         "--key", demo / "home/keys/watermark/demo.json", "--model", demo / "index",
         "--max-bytes", str(MAX_BYTES), "--block-rows", "8", "--json", inputs[0], out],
        capture_output=True, text=True, env=cli.env, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["rows"] == len(texts) + len(BAD) + 1
    assert summary["errors"] == len(BAD) + 1
    rows = read(out)
    check_rows(rows, texts, ["detected", "p_value", "result"])
    some = sorted(texts)[0]
    theirs = cli_json(cli, "detect", "--key", demo / "home/keys/watermark/demo.json",
                      "--model", demo / "index", some, cwd=inputs[1])
    assert json.loads(rows[some]["result"]) == theirs
    # The output is never written over.
    again = subprocess.run(
        [cli.path, "batch", "detect", "--ray", "local", "--python", sys.executable,
         "--key", demo / "home/keys/watermark/demo.json", "--model", demo / "index",
         inputs[0], out], capture_output=True, text=True, env=cli.env, timeout=120,
    )
    assert again.returncode == 2 and "already exists" in again.stderr


def batch(cli, demo, *args, python, env=None):
    return subprocess.run(
        [cli.path, "batch", "detect", "--ray", "local", "--python", python,
         "--key", demo / "home/keys/watermark/demo.json", "--model", demo / "index", *args],
        capture_output=True, text=True, env={**cli.env, **(env or {})}, timeout=120,
    )


def test_a_missing_python_package_or_ray_is_said_with_its_fix(cli, demo, inputs, tmp_path):
    out = tmp_path / "out"
    missing = batch(cli, demo, inputs[0], out, python=str(tmp_path / "no-python"))
    assert missing.returncode == 2
    assert "no Python at" in missing.stderr and "--python or TRACEMARK_PYTHON" in missing.stderr
    # The interpreter under this environment, without its packages: no tracemark.
    base = getattr(sys, "_base_executable", None) or sys.executable
    bare = subprocess.run([base, "-c", "import tracemark"], capture_output=True)
    assert bare.returncode != 0, "the base interpreter must not have tracemark"
    no_package = batch(cli, demo, inputs[0], out, python=base)
    assert no_package.returncode == 2
    assert "has no tracemark package" in no_package.stderr
    assert "pip install" in no_package.stderr
    # The same interpreter with a copy of this build's package, and still no Ray.
    copy = tmp_path / "site"
    shutil.copytree(Path(tracemark.__file__).parent, copy / "tracemark")
    no_ray = batch(cli, demo, inputs[0], out, python=base, env={"PYTHONPATH": str(copy)})
    assert no_ray.returncode == 2
    assert "has the tracemark package but not Ray Data" in no_ray.stderr
    assert "ray[data]" in no_ray.stderr
    assert not out.exists()


def test_an_address_where_no_cluster_answers_is_said_at_once(cli, demo, inputs, tmp_path):
    import socket

    with socket.socket() as s:  # a port of this machine that nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    started = time.monotonic()
    done = subprocess.run(
        [cli.path, "batch", "trace", "--ray", f"127.0.0.1:{port}", "--python", sys.executable,
         "--index", demo / "index", inputs[0], tmp_path / "out"],
        capture_output=True, text=True, env=cli.env, timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert f"no Ray cluster answers at 127.0.0.1:{port}" in done.stderr
    assert "--ray local" in done.stderr
    assert time.monotonic() - started < 60
    assert not (tmp_path / "out").exists()


def test_bulk_attribution_refuses_a_sqlite_log(cli, demo, inputs, tmp_path):
    config = demo / "tracemark.toml"  # the demo logs to SQLite
    done = subprocess.run(
        [cli.path, "--config", config, "batch", "attribute", "--ray", "local", "--python",
         sys.executable, inputs[0], tmp_path / "out"],
        capture_output=True, text=True, env=cli.env, timeout=60,
    )
    assert done.returncode == 2
    assert "SQLite has a single writer" in done.stderr and "--no-log" in done.stderr
    with pytest.raises(tracemark.UsageError, match="SQLite"):
        tr.run("attribute", inputs[0], tmp_path / "out", config=config)
    assert not (tmp_path / "out").exists()


# -- on the two-node cluster -----------------------------------------------------------


@pytest.fixture(scope="module")
def detected(cluster, demo, inputs, tmp_path_factory):
    out = tmp_path_factory.mktemp("jobs") / "detect"
    summary = run("detect", inputs, out, key=demo / "home/keys/watermark/demo.json",
                  model=demo / "index")
    assert summary["nodes"] == 2
    return read(out)


def test_detection_equals_the_cli_row_for_row(detected, cli, demo, inputs, texts):
    check_rows(detected, texts, ["detected", "p_value", "scored_tokens", "result"])
    found = []
    for i in sorted(texts):
        theirs = cli_json(cli, "detect", "--key", demo / "home/keys/watermark/demo.json",
                          "--model", demo / "index", i, cwd=inputs[1])
        row = detected[i]
        assert json.loads(row["result"]) == theirs, i
        assert (row["detected"], row["p_value"], row["scored_tokens"], row["payload"]) == (
            theirs["detected"], theirs["p_value"], theirs["scored_tokens"], theirs["payload"])
        found.append(row["detected"])
    # Both verdicts occur: the comparison covers marked and unmarked texts.
    assert any(found) and not all(found)


def test_tracing_equals_the_cli_row_for_row(cluster, cli, demo, inputs, texts, tmp_path):
    run("trace", inputs, tmp_path / "trace", index=demo / "index")
    rows = read(tmp_path / "trace")
    check_rows(rows, texts, ["coverage", "spans", "documents", "result"])
    for i in sorted(texts):
        theirs = cli_json(cli, "trace", "--index", demo / "index", i, cwd=inputs[1])
        assert json.loads(rows[i]["result"]) == theirs, i
        assert rows[i]["coverage"] == theirs["coverage"]
        assert rows[i]["spans"] == len(theirs["spans"])
    assert any(rows[i]["coverage"] > 0.9 for i in texts if i.startswith("corpus/"))
    assert rows["2-trace-to-training-data"]["documents"]


def test_attribution_equals_the_cli_report_hash_and_all(cluster, cli, demo, inputs, texts,
                                                         tmp_path):
    config = demo / "tracemark.toml"
    run("attribute", inputs, tmp_path / "attribute", config=config, as_of=AS_OF,
        generated_at=AT, log=False)
    rows = read(tmp_path / "attribute")
    check_rows(rows, texts, ["report_hash", "rules", "report"])
    for i in sorted(texts):
        theirs = cli_json(cli, "--config", config, "attribute", "--no-log", "--as-of", AS_OF,
                          "--generated-at", AT, i, cwd=inputs[1])
        row = rows[i]
        assert row["report_hash"] == theirs["seal"]["report_hash"], i
        assert json.loads(row["report"]) == theirs, i
        assert json.loads(row["rules"]) == {r["id"]: r["outcome"] for r in theirs["rules"]}
        assert row["logged"] is False
    outcomes = {o for i in texts for o in json.loads(rows[i]["rules"]).values()}
    assert {"compliant", "non_compliant"} <= outcomes


def test_verification_equals_the_cli_row_for_row(cluster, cli, demo, inputs, texts, tmp_path):
    root = demo / "home/keys/signing/demo/root.pem"
    run("verify", inputs, tmp_path / "verify", trust=[root])
    rows = read(tmp_path / "verify")
    # Bytes that are not UTF-8 are content too: a credential check reads them as they are.
    bad = {k: v for k, v in BAD.items() if not k.startswith("not-utf8")}
    for i, expected in bad.items():
        assert expected in rows[i]["error"]
    for i in ("not-utf8-jsonl", "not-utf8-parquet"):
        assert rows[i]["error"] is None and rows[i]["state"] == "none"
    by_label = lambda r: {**r, "assertions": sorted(r["assertions"], key=lambda a: a["label"])}  # noqa: E731
    for i in sorted(texts):
        theirs = cli_json(cli, "verify", "--trust", root, i, cwd=inputs[1])
        assert rows[i]["state"] == theirs["state"], i
        assert by_label(json.loads(rows[i]["result"])) == by_label(theirs), i
    assert rows["1-mark-at-the-source.signed"]["state"] == "trusted"
    assert rows["1-mark-at-the-source"]["state"] == "none"


def _map_workers() -> dict[int, str]:
    """The processes of Ray's detection workers: pid to process title."""
    found = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            title = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
        except OSError:
            continue
        if title.startswith("ray::MapWorker(MapBatches(Detect))"):
            found[int(pid)] = title
    return found


def test_a_worker_killed_mid_job_loses_no_row_and_duplicates_none(detected, demo, inputs,
                                                                   texts, tmp_path):
    # Many small blocks, so that the job is still running when a worker dies.
    copies = 12
    ids = [f"{i}#{k}" for k in range(copies) for i in sorted(texts)]
    table = pa.table({"id": ids, "text": pa.array([texts[i.split("#")[0]] for i in ids], pa.binary())})
    (tmp_path / "in").mkdir()
    pq.write_table(table, tmp_path / "in/many.parquet")
    killed: dict = {}

    def kill_a_busy_worker():
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not killed:
            for pid, title in _map_workers().items():
                if title.endswith(".submit"):  # in the middle of a batch
                    os.kill(pid, signal.SIGKILL)
                    killed.update(pid=pid, title=title, at=time.monotonic())
                    break
            time.sleep(0.005)

    killer = threading.Thread(target=kill_a_busy_worker, daemon=True)
    killer.start()
    out = tmp_path / "detect"
    tr.run("detect", tmp_path / "in", out, address="auto", workers=2, block_rows=3,
           batch_size=3, key=demo / "home/keys/watermark/demo.json", model=demo / "index")
    finished = time.monotonic()
    killer.join(timeout=5)
    assert killed, "no detection worker was seen at work to be killed"
    assert killed["at"] < finished
    assert not Path(f"/proc/{killed['pid']}").exists()
    rows = read(out)  # no id twice
    assert sorted(rows) == sorted(ids)  # none lost
    for i, row in rows.items():
        assert row["error"] is None, row["error"]
        assert row["result"] == detected[i.split("#")[0]]["result"]


def test_bulk_attribution_logs_to_postgresql(cluster, cli, demo, inputs, texts, tmp_path):
    url = os.environ.get("TRACEMARK_TEST_POSTGRES")
    if not url:
        if os.environ.get("CI") == "true":
            pytest.fail("TRACEMARK_TEST_POSTGRES is not set (.ci/run sets it)")
        pytest.skip("TRACEMARK_TEST_POSTGRES names no PostgreSQL database")
    schema = f"ray_{os.getpid()}_{int(time.time())}"
    cli.run("log", "init", "--dir", tmp_path / "log", "--origin", "ray.example/log",
            "--postgres", url, "--schema", schema)
    config = tmp_path / "tracemark.toml"
    home = demo / "home/keys"
    config.write_text(
        f'[keys]\nwatermark = ["{home}/watermark/demo.json"]\n'
        f'service = "{home}/service/demo"\nlog = "{tmp_path}/log"\n'
        f'trust = ["{home}/signing/demo/root.pem"]\n'
        f'[log]\npostgres = "{url}"\nschema = "{schema}"\n'
        f'[index]\npaths = ["{demo}/index"]\n'
        f'[policy]\njurisdictions = ["EU"]\n'
    )
    summary = run("attribute", inputs, tmp_path / "attribute", config=config, as_of=AS_OF)
    assert summary["errors"] == len(BAD) + 1
    rows = read(tmp_path / "attribute")
    entries = set()
    for i in texts:
        assert rows[i]["logged"] is True
        (tmp_path / "report.json").write_text(rows[i]["report"])
        verdict = cli.json("report", "verify", "--key", f"{home}/service/demo/key.pub",
                           "--log-key", tmp_path / "log/key.pub", tmp_path / "report.json")
        assert verdict["trust"] == "trusted", verdict
        entries.add(verdict["logged"]["index"])
    # One entry a report, each proved by its receipt against the log's key.
    assert len(entries) == len(texts)
    # The whole log verifies, and holds those entries only.
    log = cli.json("--config", config, "log", "verify")
    assert log["size"] == log["checkpoint_size"] == len(texts)
