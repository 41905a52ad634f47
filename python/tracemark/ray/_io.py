"""Reading a dataset of texts (JSON Lines or Parquet) into Ray Data, one row per record,
without ever failing on a bad record: each row has an ``id``, the ``text`` as bytes, and
an ``error`` when the record could not be read (not JSON, no text field, a text that is
not a string). The blocks then check each text (empty, not UTF-8, too large).

The id is the record's ``id`` field (or the column named by ``id_field``) when it has
one, else ``PATH:N``, its file and record number (from 1).
"""

from __future__ import annotations

import json
import os
from typing import Iterator, Optional, Sequence, Union

import pyarrow as pa
import pyarrow.parquet as pq
from ray.data.datasource import FileBasedDatasource

#: What a row of the dataset read is.
INPUT_SCHEMA = pa.schema(
    [
        pa.field("id", pa.string(), nullable=False),
        pa.field("text", pa.large_binary()),
        pa.field("error", pa.string()),
    ]
)

JSONL_SUFFIXES = (".jsonl", ".json", ".ndjson")
PARQUET_SUFFIXES = (".parquet", ".pq")
SUFFIXES = JSONL_SUFFIXES + PARQUET_SUFFIXES

_CHUNK = 1 << 20


def _lines(f) -> Iterator[bytes]:
    """The lines of a file, as bytes, without their line breaks (any size, streamed)."""
    rest = b""
    while True:
        chunk = f.read(_CHUNK)
        if not chunk:
            break
        rest += chunk
        *lines, rest = rest.split(b"\n")
        yield from lines
    if rest:
        yield rest


class TextsDatasource(FileBasedDatasource):
    """JSON Lines and Parquet files as rows of ``id``, ``text`` (bytes) and ``error``."""

    _FILE_EXTENSIONS = [s.lstrip(".") for s in SUFFIXES]

    def __init__(
        self,
        paths: Union[str, Sequence[str]],
        *,
        id_field: str = "id",
        text_field: str = "text",
        block_rows: int = 256,
        **kwargs,
    ) -> None:
        super().__init__(paths, **kwargs)
        self.id_field = id_field
        self.text_field = text_field
        self.block_rows = max(1, int(block_rows))

    def _open_input_source(self, filesystem, path: str, **open_args) -> "pa.NativeFile":
        # Parquet is read by row groups, which needs a file it can seek in.
        if path.endswith(PARQUET_SUFFIXES):
            return filesystem.open_input_file(path)
        return super()._open_input_source(filesystem, path, **open_args)

    def _read_stream(self, f: "pa.NativeFile", path: str) -> Iterator[pa.Table]:
        rows = self._parquet(f, path) if path.endswith(PARQUET_SUFFIXES) else self._jsonl(f, path)
        ids, texts, errors = [], [], []
        for row_id, text, error in rows:
            ids.append(row_id)
            texts.append(text)
            errors.append(error)
            if len(ids) >= self.block_rows:
                yield pa.Table.from_pydict({"id": ids, "text": texts, "error": errors}, schema=INPUT_SCHEMA)
                ids, texts, errors = [], [], []
        if ids:
            yield pa.Table.from_pydict({"id": ids, "text": texts, "error": errors}, schema=INPUT_SCHEMA)

    def _jsonl(self, f, path: str):
        n = 0
        for line in _lines(f):
            if not line.strip():
                continue  # blank lines are no records (as JSON Lines readers have it)
            n += 1
            where = f"{path}:{n}"
            try:
                # Invalid UTF-8 inside the line is kept as it is (surrogate escapes), so
                # that the record's id survives and its text is the one refused.
                record = json.loads(line.decode("utf-8", "surrogateescape"))
            except ValueError as e:
                yield where, None, f"line {n} of {path} is not JSON ({e})"
                continue
            if not isinstance(record, dict):
                yield where, None, f"line {n} of {path} is not a JSON object"
                continue
            row_id = record.get(self.id_field)
            row_id = where if row_id is None else _id_text(row_id)
            text = record.get(self.text_field)
            if text is None:
                yield row_id, None, f"the record has no `{self.text_field}` field"
            elif not isinstance(text, str):
                yield row_id, None, f"the record's `{self.text_field}` is not a string"
            else:
                yield row_id, _raw(text), None

    def _parquet(self, f, path: str):
        table = pq.ParquetFile(f)
        names = table.schema_arrow.names
        if self.text_field not in names:
            raise ValueError(
                f"{path} has no `{self.text_field}` column (it has {', '.join(names)}): "
                "name the text column with --text-field"
            )
        columns = [self.text_field] + ([self.id_field] if self.id_field in names else [])
        n = 0
        for batch in table.iter_batches(columns=columns, batch_size=1024):
            text_col = batch.column(self.text_field)
            if pa.types.is_string(text_col.type) or pa.types.is_large_string(text_col.type):
                # Reinterpreted as bytes: a string column from another writer may hold
                # invalid UTF-8, which is that row's error, not the file's.
                text_col = text_col.cast(pa.large_binary())
            texts = text_col.to_pylist()
            ids = (
                batch.column(self.id_field).to_pylist()
                if self.id_field in names
                else [None] * len(texts)
            )
            for row_id, text in zip(ids, texts):
                n += 1
                row_id = f"{path}:{n}" if row_id is None else _id_text(row_id)
                if text is None:
                    yield row_id, None, f"the row's `{self.text_field}` is null"
                elif isinstance(text, (bytes, bytearray)):
                    yield row_id, bytes(text), None
                else:
                    yield row_id, None, f"the row's `{self.text_field}` is not text"


def _raw(text: str) -> bytes:
    """The bytes a JSON string stood for: invalid UTF-8 read with surrogate escapes comes
    back as it was; a lone surrogate escape (``\\ud800``) as bytes that are not UTF-8."""
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass")


def _id_text(value) -> str:
    """An id as text that Parquet can hold (bytes that are not UTF-8 escaped)."""
    if not isinstance(value, (bytes, str)):
        return str(value)
    raw = _raw(value) if isinstance(value, str) else value
    return raw.decode("utf-8", "backslashreplace")


def read_texts(
    paths: Union[str, Sequence[str]],
    *,
    id_field: str = "id",
    text_field: str = "text",
    block_rows: int = 256,
):
    """The dataset of texts in ``paths`` (JSON Lines or Parquet files, or folders of
    them): rows of ``id``, ``text`` (bytes) and ``error``."""
    import ray.data

    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    paths = [os.fspath(p) for p in paths]
    # Reading is light work and takes no CPU of the cluster's: the CPUs are the workers',
    # and a read waiting for a CPU that a worker holds would wait for ever.
    return ray.data.read_datasource(
        TextsDatasource(paths, id_field=id_field, text_field=text_field, block_rows=block_rows),
        num_cpus=0,
    )
