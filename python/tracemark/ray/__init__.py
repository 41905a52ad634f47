"""Bulk work on Ray Data: watermark detection, credential verification, tracing and full
attribution of a dataset of texts, on every worker of a Ray cluster.

The building blocks are callable classes for ``Dataset.map_batches`` (run as an actor
pool, ``batch_format="pyarrow"``); each loads what it reads once per worker and gives one
row per input row, with the row's ``id``, an ``error`` column and the verdict columns of
the matching ``tracemark ... --json`` command::

    import ray, tracemark.ray as tr
    ds = tr.read_texts("outputs/")                      # JSON Lines or Parquet: id, text
    ds = ds.map_batches(tr.Detect, fn_constructor_kwargs={"key": "key.json", "model": "m"},
                        batch_format="pyarrow", compute=ray.data.ActorPoolStrategy(size=4))
    ds.write_parquet("verdicts/")

:func:`run` is the whole job (read, map, write Parquet), and ``python -m tracemark.ray``
(which ``tracemark batch`` launches) its command line. Ray Data does not keep the order
of rows: join results to inputs on ``id``.

Paths (keys, models, indexes, the configuration, inputs and output) are read by every
worker: on a cluster of several machines they must name the same files on each (a shared
filesystem). Secret keys travel as paths, never as values.
"""

from __future__ import annotations

import os
import shutil
import time
import uuid
from typing import Any, Optional, Sequence, Union

from ._blocks import (
    BASE_FIELDS,
    BLOCKS,
    DEFAULT_MAX_BYTES,
    Attribute,
    Detect,
    Trace,
    Verify,
    check_log,
)

__all__ = [
    "Attribute",
    "DEFAULT_MAX_BYTES",
    "Detect",
    "Trace",
    "Verify",
    "connect",
    "read_texts",
    "run",
]

PathLike = Union[str, "os.PathLike[str]"]


def read_texts(
    paths: Union[PathLike, Sequence[PathLike]],
    *,
    id_field: str = "id",
    text_field: str = "text",
    block_rows: int = 256,
):
    """The dataset of the texts in ``paths``: JSON Lines (``.jsonl``, ``.json``,
    ``.ndjson``) and Parquet (``.parquet``) files, or folders of them, as rows of ``id``,
    ``text`` (bytes) and ``error`` (a record that could not be read). A record's id is
    its ``id_field``, else ``PATH:N`` (its file and record number). ``block_rows`` rows
    make a block, the unit that one worker takes at a time."""
    from ._io import read_texts as read

    return read(paths, id_field=id_field, text_field=text_field, block_rows=block_rows)


def connect(address: str = "local", *, num_cpus: Optional[int] = None) -> None:
    """Joins the Ray cluster at ``address`` (``host:port``, ``ray://...``, ``auto``), or
    with ``local`` starts one on this machine (``num_cpus`` CPUs, default all) that ends
    with the process. Does nothing when Ray is already initialised."""
    import ray

    if ray.is_initialized():
        return
    if address == "local":
        # A cluster started for one job reports nothing home unless its user says so.
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
        # On the loopback interface: a cluster for one job on one machine has no business
        # on the network.
        ray.init(address="local", num_cpus=num_cpus, include_dashboard=False,
                 _node_ip_address="127.0.0.1")
    else:
        _answers(address)
        ray.init(address=address)


def _answers(address: str) -> None:
    """Fails at once, with the fix, when nothing listens at a ``host:port`` address (Ray
    itself would retry for minutes)."""
    import socket

    from .. import UsageError

    if "://" in address or address == "auto" or ":" not in address:
        return
    host, _, port = address.rpartition(":")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=10).close()
    except (OSError, ValueError) as e:
        raise UsageError(
            f"no Ray cluster answers at {address} ({e})\n  fix: start one there (`ray start "
            "--head`) and give its address, or pass --ray local for a cluster of this machine"
        ) from None


#: The options that name files.
_PATH_OPTIONS = ("key", "model", "index", "tokenizer", "config")


def _absolute(path: PathLike) -> str:
    path = os.fspath(path)
    return path if "://" in path else os.path.abspath(path)


def _output_is_free(output: str) -> None:
    from .. import UsageError

    if "://" in output:
        return
    if os.path.exists(output) and (not os.path.isdir(output) or os.listdir(output)):
        raise UsageError(
            f"{output} already exists\n  fix: name a new folder for the output "
            "(a job never writes over one)"
        )


def run(
    task: str,
    source: Union[PathLike, Sequence[PathLike]],
    output: PathLike,
    *,
    address: str = "local",
    workers: Optional[int] = None,
    batch_size: int = 64,
    block_rows: int = 256,
    id_field: str = "id",
    text_field: str = "text",
    max_bytes: int = DEFAULT_MAX_BYTES,
    **options: Any,
) -> dict[str, Any]:
    """Runs ``task`` (``detect``, ``verify``, ``trace`` or ``attribute``) on the texts of
    ``source`` and writes one Parquet row per input record to the folder ``output``
    (which must not exist or be empty). ``options`` are the block's (:class:`Detect`,
    :class:`Verify`, :class:`Trace`, :class:`Attribute`). ``workers`` fixes the actor
    pool's size (default: from 1 up to the cluster's CPUs).

    A local output is written into a folder beside it and renamed when the job has
    finished, so that ``output`` never holds a partial result. Returns a summary: rows,
    rows with an error, seconds, workers.
    """
    import pyarrow.parquet as pq
    import ray
    import ray.data

    from .. import UsageError

    if task not in BLOCKS:
        raise UsageError(f"no task `{task}`\n  fix: one of {', '.join(sorted(BLOCKS))}")
    block = BLOCKS[task]
    output = _absolute(output)
    _output_is_free(output)
    # Every worker reads the same files, whatever its working folder.
    for name in _PATH_OPTIONS:
        if options.get(name) is not None:
            options[name] = _absolute(options[name])
    if options.get("trust"):
        options["trust"] = [_absolute(t) for t in options["trust"]]
    source = [_absolute(s) for s in ([source] if isinstance(source, (str, os.PathLike)) else source)]
    problems: list[str] = []
    if task == "attribute":
        # Checked here, before any worker starts: the configuration loads, and a log the
        # reports go to can take many writers. `log=None` logs as `tracemark attribute`
        # does: when the configuration names a log.
        from .. import _tracemark

        attributor = _tracemark.Attributor(options.get("config"))
        if options.get("log") is None:
            options["log"] = attributor.log_backend is not None
        check_log(attributor.log_backend, options["log"])
        problems = attributor.problems()
    started = time.monotonic()
    connect(address, num_cpus=None)
    cpus = max(1, int(ray.cluster_resources().get("CPU", 1)))
    compute = (
        ray.data.ActorPoolStrategy(size=workers)
        if workers
        else ray.data.ActorPoolStrategy(min_size=1, max_size=cpus)
    )
    kwargs = dict(options, id_column="id", text_column="text", max_bytes=max_bytes)
    ds = read_texts(source, id_field=id_field, text_field=text_field, block_rows=block_rows)
    ds = ds.map_batches(
        block,
        fn_constructor_kwargs=kwargs,
        batch_format="pyarrow",
        batch_size=batch_size,
        compute=compute,
        num_cpus=1,
    )
    local = "://" not in output
    target = output
    if local:
        parent = os.path.dirname(os.path.abspath(output))
        os.makedirs(parent, exist_ok=True)
        target = os.path.join(parent, f".{os.path.basename(output)}.partial-{uuid.uuid4().hex[:12]}")
    try:
        # Writing takes no CPU of the cluster's either (see read_texts).
        ds.write_parquet(target, ray_remote_args={"num_cpus": 0})
        if local and not os.path.isdir(target):
            # No rows read, no file written: the output is still a table, with no rows.
            import pyarrow as pa

            os.makedirs(target)
            pq.write_table(
                pa.schema(BASE_FIELDS + block.FIELDS).empty_table(),
                os.path.join(target, "empty.parquet"),
            )
        if local:
            if os.path.isdir(output):
                os.rmdir(output)  # empty (checked above)
            os.rename(target, output)
    finally:
        if local and os.path.exists(target):
            shutil.rmtree(target, ignore_errors=True)
    errors = pq.read_table(output, columns=["error"]).column("error")
    return {
        "task": task,
        "output": output,
        "rows": len(errors),
        "errors": len(errors) - errors.null_count,
        "seconds": round(time.monotonic() - started, 3),
        "workers": workers or f"1-{cpus}",
        "nodes": len([n for n in ray.nodes() if n.get("Alive")]),
        "problems": problems,
    }
