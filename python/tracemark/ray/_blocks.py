"""The building blocks: callable classes for ``Dataset.map_batches`` that load what they
read (keys, tokenizers, indexes, trust anchors, the attribution's configuration) once per
worker, in ``__init__``, and turn a batch of texts into a batch of verdicts.

A batch is a ``pyarrow.Table`` (``batch_format="pyarrow"``) with an id column and a text
column (string or binary); the result has one row per input row, in the same order: the
id, an ``error`` column (null, or why the row has no verdict) and the verdict columns of
the block's ``SCHEMA``. A bad row (no text, empty, not UTF-8, over the size limit, or one
the pipeline refuses) gets its error and never fails the batch, so a job loses no row.

The blocks need only pyarrow and the package; Ray is needed to run them
(:func:`tracemark.ray.run`), not to import them.
"""

from __future__ import annotations

import json
import os
from typing import Any, Optional, Sequence, Union

import pyarrow as pa

from .. import _tracemark
from .._results import error_from_json

PathLike = Union[str, "os.PathLike[str]"]

#: The largest text a row may hold (the command line's limit for one input: 16 MiB).
DEFAULT_MAX_BYTES = 16 << 20

#: The columns every result starts with.
BASE_FIELDS = [pa.field("id", pa.string(), nullable=False), pa.field("error", pa.string())]


def _fix(message: str, fix: Optional[str]) -> str:
    return message if not fix else f"{message}\n  fix: {fix}"


def _error_text(error: BaseException) -> str:
    """An exception as the row's error: Tracemark's carry the CLI's message and fix."""
    if isinstance(error, _tracemark.TracemarkError):
        return str(error)
    return f"internal error ({type(error).__name__}): {error}"


class _Block:
    """What every block shares: reading the batch's ids and texts, checking each text,
    and assembling the result table."""

    #: The verdict columns (after ``id`` and ``error``).
    FIELDS: list = []

    def __init__(
        self,
        *,
        id_column: str = "id",
        text_column: str = "text",
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> None:
        self.id_column = id_column
        self.text_column = text_column
        self.max_bytes = int(max_bytes)
        self.schema = pa.schema(BASE_FIELDS + self.FIELDS)
        # The Rust side runs on rayon's pool: as many threads as the worker's CPUs (Ray
        # sets OMP_NUM_THREADS to them), not the machine's, which other workers share.
        threads = os.environ.get("OMP_NUM_THREADS")
        if threads:
            os.environ["RAYON_NUM_THREADS"] = threads

    # -- reading a batch ------------------------------------------------------------

    def _column(self, batch: pa.Table, name: str) -> pa.ChunkedArray:
        if name not in batch.column_names:
            raise _tracemark.UsageError(
                _fix(
                    f"the batch has no `{name}` column (it has {', '.join(batch.column_names)})",
                    "name the columns with id_column= and text_column=",
                )
            )
        return batch.column(name)

    def _rows(self, batch: pa.Table) -> tuple[list[str], list[Union[str, None]], list[Optional[str]]]:
        """The ids, the texts (None for a bad row) and each row's error."""
        if isinstance(batch, dict):
            batch = pa.table(batch)
        ids = [None if i is None else str(i) for i in self._column(batch, self.id_column).to_pylist()]
        raw = self._column(batch, self.text_column)
        # As bytes: a string column written by another tool may hold invalid UTF-8, which
        # must become this row's error, not the batch's exception.
        if pa.types.is_string(raw.type) or pa.types.is_large_string(raw.type):
            raw = raw.cast(pa.large_binary() if pa.types.is_large_string(raw.type) else pa.binary())
        values = raw.to_pylist()
        upstream = (
            batch.column("error").to_pylist() if "error" in batch.column_names else [None] * len(ids)
        )
        texts: list[Optional[str]] = []
        errors: list[Optional[str]] = []
        for n, (row_id, value, earlier) in enumerate(zip(ids, values, upstream)):
            text, error = None, earlier
            if row_id is None:
                ids[n] = f"(row {n} of a batch without an id)"
                error = error or f"the row has no `{self.id_column}`"
            if error is None:
                text, error = self._check(value)
            texts.append(text if error is None else None)
            errors.append(error)
        return ids, texts, errors

    def _check(self, value: Any) -> tuple[Optional[str], Optional[str]]:
        if value is None:
            return None, f"the row has no `{self.text_column}`"
        if isinstance(value, str):
            value = value.encode("utf-8", "surrogatepass")
        if len(value) > self.max_bytes:
            return None, _fix(
                f"the text is {len(value)} bytes, larger than the limit of {self.max_bytes}",
                "split the text, or raise the limit (max_bytes, --max-bytes)",
            )
        if len(value) == 0:
            return None, "the text is empty"
        try:
            return value.decode("utf-8"), None
        except UnicodeDecodeError as e:
            return None, _fix(
                f"not UTF-8 text (invalid byte at offset {e.start})",
                "give the text as UTF-8",
            )

    # -- the result -----------------------------------------------------------------

    def _table(self, ids: list[str], errors: list[Optional[str]], results: list[dict]) -> pa.Table:
        columns = {"id": ids, "error": errors}
        for field in self.FIELDS:
            columns[field.name] = [r.get(field.name) if r else None for r in results]
        return pa.Table.from_pydict(columns, schema=self.schema)

    def __call__(self, batch: pa.Table) -> pa.Table:
        ids, texts, errors = self._rows(batch)
        todo = [n for n, t in enumerate(texts) if t is not None]
        results: list[Optional[dict]] = [None] * len(ids)
        for n, outcome in zip(todo, self._verdicts([texts[n] for n in todo], [ids[n] for n in todo])):
            if isinstance(outcome, BaseException):
                errors[n] = _error_text(outcome)
            else:
                results[n] = outcome
        return self._table(ids, errors, results)

    def _verdicts(self, texts: list[str], ids: list[str]) -> list:
        """One verdict (a dict of the block's columns) or exception per text."""
        out = []
        for text, row_id in zip(texts, ids):
            try:
                out.append(self._verdict(text, row_id))
            except (KeyboardInterrupt, SystemExit):
                raise
            except BaseException as e:  # noqa: BLE001 (a Rust panic is a BaseException)
                out.append(e)
        return out

    def _verdict(self, text: str, row_id: str) -> dict:
        raise NotImplementedError


class Detect(_Block):
    """Watermark detection, each row's verdict that of ``tracemark detect --key KEY --model
    MODEL --fpr FPR --json`` on a file of the row's text (``result`` holds that object).

    ``key`` is the watermark key file, ``model`` the model whose tokenizer it is bound to
    (a model folder, a tokenizer file, or a corpus index for its corpus model).
    """

    FIELDS = [
        pa.field("detected", pa.bool_()),
        pa.field("p_value", pa.float64()),
        pa.field("log10_p_value", pa.float64()),
        pa.field("scored_tokens", pa.int64()),
        pa.field("false_positive_rate", pa.float64()),
        pa.field("scheme", pa.string()),
        pa.field("key_id", pa.string()),
        pa.field("payload", pa.string()),
        pa.field("segments", pa.int64()),
        pa.field("result", pa.string()),
    ]

    def __init__(
        self,
        key: PathLike,
        model: PathLike,
        *,
        false_positive_rate: float = 1e-3,
        **columns: Any,
    ) -> None:
        super().__init__(**columns)
        self.tokenizer = _tracemark.Tokenizer(os.fspath(model))
        self.key = _tracemark.WatermarkKey.load(os.fspath(key), self.tokenizer)
        self.false_positive_rate = float(false_positive_rate)

    def _verdicts(self, texts: list[str], ids: list[str]) -> list:
        # As the CLI: an embedded content credential is invisible characters the model
        # never wrote, so the text is tested without it. All rows at once, in parallel.
        stripped = [_tracemark.strip_credential(t) for t in texts]
        items = _tracemark.detect_many(
            self.key, stripped, self.tokenizer, false_positive_rate=self.false_positive_rate
        )
        out: list = []
        for item in items:
            d = json.loads(item)
            error = error_from_json(d)
            if error is not None:
                out.append(error)
                continue
            out.append(
                {
                    "detected": d["detected"],
                    "p_value": d["p_value"],
                    "log10_p_value": d["log10_p_value"],
                    "scored_tokens": d["scored_tokens"],
                    "false_positive_rate": d["false_positive_rate"],
                    "scheme": d["scheme"],
                    "key_id": d["key_id"],
                    "payload": d["payload"],
                    "segments": len(d["segments"]),
                    "result": item,
                }
            )
        return out


class Verify(_Block):
    """Content-credential verification, each row's verdict that of ``tracemark verify
    --trust PEM... --json`` on a file of the row's bytes: ``state`` is ``trusted`` only
    when the signer chains to one of the ``trust`` anchors (PEM files)."""

    FIELDS = [
        pa.field("state", pa.string()),
        pa.field("signer", pa.string()),
        pa.field("generator", pa.string()),
        pa.field("failures", pa.list_(pa.string())),
        pa.field("result", pa.string()),
    ]

    def __init__(self, *, trust: Sequence[PathLike] = (), **columns: Any) -> None:
        super().__init__(**columns)
        self.verifier = _tracemark.CredentialVerifier(
            trust=[os.fspath(t) for t in trust], max_bytes=self.max_bytes
        )

    def _check(self, value: Any) -> tuple[Optional[str], Optional[str]]:
        # A credential is checked on the bytes as they are (media too): only the size
        # and emptiness are the row's business here.
        text, error = super()._check(value)
        if error is not None and error.startswith("not UTF-8"):
            raw = value.encode("utf-8", "surrogatepass") if isinstance(value, str) else value
            return raw, None
        return text, error

    def _verdict(self, text: Union[str, bytes], row_id: str) -> dict:
        data = text.encode("utf-8") if isinstance(text, str) else text
        d = json.loads(self.verifier.verify(data, name=row_id))
        signer = d.get("signer") or {}
        return {
            "state": d["state"],
            "signer": signer.get("common_name"),
            "generator": d.get("generator"),
            "failures": [f["code"] for f in d.get("failures", [])],
            "result": json.dumps(d, separators=(",", ":")),
        }


class Trace(_Block):
    """Tracing into a corpus index, each row's verdict that of ``tracemark trace --index
    INDEX --json`` on a file of the row's text: the share of its bytes found verbatim
    (``coverage``), the maximal spans, and the documents they come from."""

    FIELDS = [
        pa.field("coverage", pa.float64()),
        pa.field("spans_total", pa.int64()),
        pa.field("spans", pa.int64()),
        pa.field("documents", pa.list_(pa.string())),
        pa.field("result", pa.string()),
    ]

    def __init__(
        self,
        index: PathLike,
        *,
        tokenizer: Optional[PathLike] = None,
        min_tokens: Optional[int] = None,
        all_spans: bool = False,
        usage: Optional[str] = None,
        **columns: Any,
    ) -> None:
        super().__init__(**columns)
        self.index = _tracemark.CorpusIndex(
            os.fspath(index), None if tokenizer is None else os.fspath(tokenizer)
        )
        self.options = {"min_tokens": min_tokens, "all_spans": all_spans, "usage": usage}

    def _verdict(self, text: str, row_id: str) -> dict:
        result = self.index.trace(text, **self.options)
        d = json.loads(result)
        documents: list[str] = []
        for span in d["spans"]:
            for doc in span["documents"]:
                if doc["id"] not in documents:
                    documents.append(doc["id"])
        return {
            "coverage": d["coverage"],
            "spans_total": d["spans_total"],
            "spans": len(d["spans"]),
            "documents": documents,
            "result": result,
        }


class Attribute(_Block):
    """Full attribution, each row's report that of ``tracemark attribute`` on a file named
    by the row's id holding its text: the answer (``summary``), each rule's outcome
    (``rules``, a JSON object of rule id to outcome), the shares, the sealed report and
    its hash. With ``generated_at`` (RFC 3339) fixed, the report and its hash are those of
    ``tracemark attribute --generated-at`` on the same content, wherever it runs.

    ``log=True`` appends each report's hash to the configuration's log and puts the
    receipt in its seal; that log must be PostgreSQL, which orders the appends of many
    workers (SQLite has a single writer: refused).
    """

    FIELDS = [
        pa.field("summary", pa.string()),
        pa.field("ai_share", pa.float64()),
        pa.field("source_share", pa.float64()),
        pa.field("rules", pa.string()),
        pa.field("report_hash", pa.string()),
        pa.field("logged", pa.bool_()),
        pa.field("report", pa.string()),
    ]

    def __init__(
        self,
        config: Optional[PathLike] = None,
        *,
        as_of: Optional[str] = None,
        jurisdictions: Optional[Sequence[str]] = None,
        ai_generated: bool = False,
        generated_at: Optional[str] = None,
        log: bool = False,
        **columns: Any,
    ) -> None:
        super().__init__(**columns)
        self.attributor = _tracemark.Attributor(None if config is None else os.fspath(config))
        check_log(self.attributor.log_backend, log)
        self.log = bool(log)
        self.options = {
            "as_of": as_of,
            "jurisdictions": None if jurisdictions is None else list(jurisdictions),
            "ai_generated": True if ai_generated else None,
            "generated_at": generated_at,
        }

    def _verdict(self, text: str, row_id: str) -> dict:
        report = self.attributor.attribute(
            text.encode("utf-8"), name=row_id, log=self.log, **self.options
        )
        d = json.loads(report)
        return {
            "summary": "\n".join(d["verdict"]["summary"]),
            "ai_share": d["verdict"]["ai_share"],
            "source_share": d["verdict"]["source_share"],
            "rules": json.dumps(
                {r["id"]: r["outcome"] for r in d["rules"]}, separators=(",", ":"), sort_keys=True
            ),
            "report_hash": d["seal"]["report_hash"],
            "logged": bool(d["seal"].get("receipt")),
            "report": report,
        }


def check_log(backend: Optional[str], log: bool) -> None:
    """Refuses to log a bulk job's reports to SQLite, which has a single writer."""
    if log and backend is None:
        raise _tracemark.UsageError(
            _fix(
                "the reports are to be logged, but the configuration names no log key",
                "set [keys] log and [log] postgres in tracemark.toml, or pass --no-log",
            )
        )
    if log and backend != "postgres":
        raise _tracemark.UsageError(
            _fix(
                "a bulk job cannot log its reports to a SQLite log: SQLite has a single "
                "writer, and the job's workers append at the same time",
                "log to PostgreSQL ([log] postgres = \"postgres://...\" in tracemark.toml), "
                "or pass --no-log",
            )
        )


#: The blocks by task name.
BLOCKS = {"detect": Detect, "verify": Verify, "trace": Trace, "attribute": Attribute}
