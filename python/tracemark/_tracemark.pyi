"""Type stubs of the extension module (crates/tracemark-py). The public API is the
package ``tracemark``; results come back as JSON text that it parses."""

from os import PathLike
from pathlib import Path
from typing import Optional, Sequence, Union

import numpy as np
import numpy.typing as npt

_Path = Union[str, PathLike[str]]

__version__: str

class TracemarkError(Exception):
    message: str
    fix: Optional[str]
    fault: str

class UsageError(TracemarkError): ...
class InputError(TracemarkError): ...
class InternalError(TracemarkError): ...

class Tokenizer:
    def __init__(self, path: _Path) -> None: ...
    @property
    def vocab_size(self) -> int: ...
    @property
    def hash(self) -> str: ...
    @property
    def bos(self) -> Optional[int]: ...
    @property
    def eos(self) -> Optional[int]: ...
    def encode(self, text: str) -> list[int]: ...
    def encode_with_offsets(self, text: str) -> list[tuple[int, int, int]]: ...
    def decode(self, ids: Sequence[int]) -> str: ...

class WatermarkKey:
    @staticmethod
    def load(path: _Path, tokenizer: Optional[Tokenizer] = None) -> WatermarkKey: ...
    @staticmethod
    def generate(
        path: _Path,
        *,
        scheme: str = "kgw-selfhash-v1",
        payload_bits: int = 0,
        tokenizer: Optional[Tokenizer] = None,
        force: bool = False,
    ) -> WatermarkKey: ...
    @staticmethod
    def import_config(
        path: _Path,
        *,
        stack: str,
        config: _Path,
        mapping: str = "v1b",
        tokenizer: Optional[Tokenizer] = None,
        force: bool = False,
    ) -> WatermarkKey: ...
    @property
    def scheme(self) -> str: ...
    @property
    def key_id(self) -> str: ...
    @property
    def payload_bits(self) -> int: ...
    @property
    def vocab_size_bound(self) -> Optional[int]: ...
    @property
    def tokenizer_hash(self) -> Optional[str]: ...
    @property
    def path(self) -> Path: ...

class BatchMarker:
    def __init__(
        self,
        key: WatermarkKey,
        vocab_size: int,
        *,
        payload: Optional[str] = None,
        pad_token_id: Optional[int] = None,
    ) -> None: ...
    @property
    def vocab_size(self) -> int: ...
    @property
    def scheme(self) -> str: ...
    def reset(self) -> None: ...
    def step(self, input_ids: npt.NDArray[np.int64], scores: npt.NDArray[np.float32]) -> None: ...

class Sampler:
    def __init__(
        self,
        key: WatermarkKey,
        vocab_size: int,
        prompt: Sequence[int],
        *,
        temperature: float = 1.0,
        top_k: int = 0,
        top_p: float = 1.0,
        seed: int = 0,
        payload: Optional[str] = None,
    ) -> None: ...
    def next(self, logits: npt.NDArray[np.float32]) -> int: ...
    def propose(
        self, logits: npt.NDArray[np.float32]
    ) -> tuple[Optional[int], npt.NDArray[np.float32]]: ...
    def accept(self, token: int) -> None: ...

class CorpusIndex:
    def __init__(self, path: _Path, tokenizer: Optional[_Path] = None) -> None: ...
    def trace(
        self,
        text: str,
        *,
        min_tokens: Optional[int] = None,
        all_spans: bool = False,
        usage: Optional[str] = None,
    ) -> str: ...
    def info(self) -> str: ...

class Log:
    def __init__(self, dir: _Path) -> None: ...
    def append(self, records: str) -> str: ...
    def prove(self, index: int, *, cosigned: bool = False) -> str: ...

class Attributor:
    def __init__(self, config: Optional[_Path] = None) -> None: ...
    def problems(self) -> list[str]: ...
    def attribute(
        self,
        content: bytes,
        *,
        name: Optional[str] = None,
        sidecar: Optional[bytes] = None,
        as_of: Optional[str] = None,
        jurisdictions: Optional[list[str]] = None,
        ai_generated: Optional[bool] = None,
        generated_at: Optional[str] = None,
        log: bool = False,
    ) -> str: ...
    @property
    def log_backend(self) -> Optional[str]: ...

class CredentialVerifier:
    def __init__(self, *, trust: list[_Path] = ..., max_bytes: int = ...) -> None: ...
    def verify(
        self, content: bytes, *, name: Optional[str] = None, sidecar: Optional[bytes] = None
    ) -> str: ...

def strip_credential(text: str) -> str: ...
def schemes() -> list[tuple[str, str]]: ...
def detect(
    key: WatermarkKey,
    *,
    text: Optional[str] = None,
    tokens: Optional[list[int]] = None,
    tokenizer: Optional[Tokenizer] = None,
    false_positive_rate: float = 1e-3,
) -> str: ...
def detect_many(
    key: WatermarkKey,
    texts: Optional[list[str]] = None,
    tokenizer: Optional[Tokenizer] = None,
    *,
    tokens: Optional[list[list[int]]] = None,
    false_positive_rate: float = 1e-3,
) -> list[str]: ...
def synthid_g_values(key: WatermarkKey, tokens: list[int]) -> list[list[int]]: ...
def llama2c_to_hf(model_dir: _Path, out_dir: _Path) -> None: ...
def sign_credential(
    input: _Path,
    output: _Path,
    *,
    key: _Path,
    cert: _Path,
    model: str = ...,
    model_version: str = ...,
    provider: str = ...,
    generation_id: Optional[str] = None,
    watermark_scheme: Optional[str] = None,
    watermark_key_id: Optional[str] = None,
    payload: Optional[str] = None,
    sidecar: bool = False,
) -> str: ...
def verify_credential(path: _Path, *, trust: list[_Path] = ..., max_bytes: int = ...) -> str: ...
def verify_receipt(
    receipt: str,
    *,
    log_keys: list[_Path],
    witnesses: list[_Path] = ...,
    min_cosignatures: Optional[int] = None,
    record: Optional[str] = None,
) -> str: ...
