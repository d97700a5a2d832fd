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
    if not isinstance(header, dict):
        raise ValueError(f"Expected a JSON object as the header but received {type(header).__name__}")
    metadata = header.pop("__metadata__", {}) or {}
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise ValueError("Expected __metadata__ to map strings to strings")
    data = memoryview(blob)[8 + header_len:]
    tensors: Dict[str, torch.Tensor] = {}
    for name, info in header.items():
        if not isinstance(info, dict) or info.get("dtype") not in DTYPES:
            raise ValueError(f"Expected a dtype in {sorted(DTYPES)} for {name} but received "
                             f"{info.get('dtype') if isinstance(info, dict) else info!r}")
        np_dtype, torch_dtype = DTYPES[info["dtype"]]
        shape, offsets = info.get("shape"), info.get("data_offsets")
        if (not isinstance(shape, list) or not all(isinstance(d, int) and d >= 0 for d in shape)
                or not isinstance(offsets, list) or len(offsets) != 2
                or not all(isinstance(o, int) for o in offsets) or not 0 <= offsets[0] <= offsets[1]):
            raise ValueError(f"Expected a shape of sizes and two ordered data offsets for {name} "
                             f"but received shape {shape!r}, data_offsets {offsets!r}")
        begin, end = offsets
        count = int(np.prod(shape)) if shape else 1
        if end - begin != count * np_dtype.itemsize:
            raise ValueError(f"Expected {count * np_dtype.itemsize} bytes for {name} but received {end - begin}")
        if end > len(data):
            raise ValueError(f"Expected {name} to end within the data block ({len(data)} bytes) but it ends "
                             f"at byte {end}: the file is truncated")
        array = np.frombuffer(data[begin:end], dtype=np_dtype).reshape(shape).copy()
        tensor = torch.from_numpy(array)
        if torch_dtype == torch.bfloat16:
            tensor = tensor.view(torch.int16).view(torch.bfloat16)
        tensors[name] = tensor
    return tensors, dict(metadata)


def load_file(path: str) -> Tuple[Dict[str, torch.Tensor], Dict[str, str]]:
    with open(path, "rb") as handle:
        return deserialize(handle.read())
