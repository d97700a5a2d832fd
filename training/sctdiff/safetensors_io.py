"""Minimal safetensors writer and reader (the `safetensors` package is not available).

Layout (https://huggingface.co/docs/safetensors): 8-byte little-endian header length n,
then n bytes of UTF-8 JSON, then the raw little-endian tensor bytes. The JSON maps each
tensor name to {"dtype", "shape", "data_offsets": [begin, end]} (offsets relative to the
start of the data block) plus an optional "__metadata__" of string -> string. We write
tensors sorted by name, contiguous and in that order, and pad the header with spaces so
the data block starts at an 8-byte aligned offset.
"""
from __future__ import annotations

import json
import struct
from typing import Dict, Mapping, Optional, Tuple

import numpy as np
import torch

# safetensors dtype name -> (numpy dtype used for the bytes, torch dtype)
DTYPES = {
    "F32": (np.dtype("<f4"), torch.float32),
    "F16": (np.dtype("<f2"), torch.float16),
    "BF16": (np.dtype("<i2"), torch.bfloat16),  # numpy has no bfloat16: moved as raw 16-bit words
    "F64": (np.dtype("<f8"), torch.float64),
    "I64": (np.dtype("<i8"), torch.int64),
    "I32": (np.dtype("<i4"), torch.int32),
    "U8": (np.dtype("u1"), torch.uint8),
}
TORCH_TO_NAME = {torch_dtype: name for name, (_, torch_dtype) in DTYPES.items()}


def _tensor_bytes(tensor: torch.Tensor) -> bytes:
    tensor = tensor.detach().cpu().contiguous()
    if tensor.dtype == torch.bfloat16:
        return tensor.view(torch.int16).numpy().astype("<i2").tobytes()
    name = TORCH_TO_NAME.get(tensor.dtype)
    if name is None:
        raise ValueError(f"Expected a tensor dtype in {sorted(DTYPES)} but received {tensor.dtype}")
    return tensor.numpy().astype(DTYPES[name][0]).tobytes()


def serialize(tensors: Mapping[str, torch.Tensor], metadata: Optional[Mapping[str, str]] = None) -> bytes:
    """Tensors (any supported dtype) + string metadata -> safetensors file bytes."""
    header: Dict[str, object] = {}
    if metadata:
        for key, value in metadata.items():
            if not isinstance(value, str):
                raise ValueError(f"Expected a string value for metadata key {key!r} but received {type(value).__name__}")
        header["__metadata__"] = dict(metadata)
    chunks = []
    offset = 0
    for name in sorted(tensors):
        tensor = tensors[name]
        data = _tensor_bytes(tensor)
        header[name] = {"dtype": TORCH_TO_NAME[tensor.dtype], "shape": list(tensor.shape),
                        "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    header_bytes = json.dumps(header, separators=(",", ":")).encode("utf-8")
    header_bytes += b" " * ((8 - (8 + len(header_bytes)) % 8) % 8)
    return struct.pack("<Q", len(header_bytes)) + header_bytes + b"".join(chunks)


def save_file(tensors: Mapping[str, torch.Tensor], path: str, metadata: Optional[Mapping[str, str]] = None) -> None:
    with open(path, "wb") as handle:
        handle.write(serialize(tensors, metadata))


def deserialize(blob: bytes) -> Tuple[Dict[str, torch.Tensor], Dict[str, str]]:
    """safetensors bytes -> (tensors by name, metadata). Validates offsets and sizes."""
    if len(blob) < 8:
        raise ValueError(f"Expected at least 8 bytes of safetensors header but received {len(blob)}")
    (header_len,) = struct.unpack("<Q", blob[:8])
    if 8 + header_len > len(blob):
        raise ValueError(f"Expected a header length within the file but received {header_len}")
    header = json.loads(blob[8:8 + header_len].decode("utf-8"))
    metadata = header.pop("__metadata__", {}) or {}
    data = memoryview(blob)[8 + header_len:]
    tensors: Dict[str, torch.Tensor] = {}
    for name, info in header.items():
        np_dtype, torch_dtype = DTYPES[info["dtype"]]
        begin, end = info["data_offsets"]
        count = int(np.prod(info["shape"])) if info["shape"] else 1
        if end - begin != count * np_dtype.itemsize or end > len(data):
            raise ValueError(f"Expected {count * np_dtype.itemsize} bytes for {name} but received {end - begin}")
        array = np.frombuffer(data[begin:end], dtype=np_dtype).reshape(info["shape"]).copy()
        tensor = torch.from_numpy(array)
        if torch_dtype == torch.bfloat16:
            tensor = tensor.view(torch.int16).view(torch.bfloat16)
        tensors[name] = tensor
    return tensors, dict(metadata)


def load_file(path: str) -> Tuple[Dict[str, torch.Tensor], Dict[str, str]]:
    with open(path, "rb") as handle:
        return deserialize(handle.read())
