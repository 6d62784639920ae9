#!/usr/bin/python3
"""Load a strata checkpoint (safetensors) into the equivalent torch.nn.Sequential and write
its eval-mode outputs on fixed inputs, and its state_dict saved back as PyTorch users save
one, for tests/parity/test_parity_checkpoint.cpp.

Run with Debian's python3-torch (the python3 first on PATH may lack torch):

    /usr/bin/python3 tests/parity/checkpoint_to_torch.py \
        [--checkpoint tests/parity/reference/checkpoint_cnn.safetensors] \
        [--output tests/parity/reference/checkpoint_cnn_outputs.txt] \
        [--torch-output tests/parity/reference/checkpoint_cnn_torch.safetensors] [--batch 6] [--seed 0]

The file is parsed with the `safetensors` package when it is installed, otherwise by hand
(struct + json): 8-byte little-endian header length N, N bytes of JSON, then the data.
strata's "strata.crc32" metadata (CRC-32 of the data section) is checked either way.
Parameters and buffers are loaded by state_dict name with strict=True, so a missing or extra
tensor, or a shape that differs, is an error; the "optimizer.*" tensors are skipped.

Output (read by tests/parity/reference.hpp): `<name> <count> <values...>` per line,
float32 values with 9 significant digits (exact round trip):
    ckpt_cnn/x     the inputs, (batch, 1, 8, 8) in row-major order (= strata's columns)
    ckpt_cnn/out   the eval-mode outputs, (batch, 5)
The --torch-output file holds model.state_dict() in safetensors form as torch wrote it
(num_batches_tracked int64, no strata metadata), which strata's load_parameters must read.
"""
import argparse
import json
import os
import struct
import sys
import zlib

import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
REFERENCE = os.path.join(HERE, "reference")

DTYPES = {
    "BOOL": torch.bool, "U8": torch.uint8, "I8": torch.int8, "I16": torch.int16, "F16": torch.float16,
    "BF16": torch.bfloat16, "I32": torch.int32, "F32": torch.float32, "F64": torch.float64, "I64": torch.int64,
}


def build_cnn():
    """strata's Sequential<Input<1, 8, 8>, Conv2D<4, 3>, ReLU, MaxPool<2>, BatchNorm, Flatten, Dense<5>>."""
    return nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.MaxPool2d(2), nn.BatchNorm2d(4), nn.Flatten(),
                         nn.Linear(4 * 3 * 3, 5))


def read_safetensors(path):
    """(metadata dict, {name: tensor}) of a safetensors file, with strata's checksum checked."""
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 8:
        raise ValueError(f"{path}: {len(raw)} bytes, shorter than the 8-byte header length")
    (n,) = struct.unpack("<Q", raw[:8])
    if n > len(raw) - 8:
        raise ValueError(f"{path}: header length {n} runs past the end of the file ({len(raw)} bytes)")
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    data = raw[8 + n:]
    meta = header.pop("__metadata__", {})
    if "strata.crc32" in meta:
        crc = zlib.crc32(data) & 0xFFFFFFFF
        if crc != int(meta["strata.crc32"], 16):
            raise ValueError(f"{path}: checksum mismatch: the file is corrupt ({crc:08x} != {meta['strata.crc32']})")
    try:
        from safetensors.torch import load_file  # noqa: F401  (optional dependency)
        tensors = load_file(path)
    except ImportError:
        tensors = {}
        for name, info in header.items():
            begin, end = info["data_offsets"]
            dtype = DTYPES[info["dtype"]]
            t = torch.frombuffer(bytearray(data[begin:end]), dtype=dtype) if end > begin else torch.empty(0, dtype=dtype)
            tensors[name] = t.reshape(info["shape"]).clone()
    return meta, tensors


def write_safetensors(path, state):
    """Writes a state_dict as PyTorch users do (safetensors.torch.save_file; by hand when the
    package is missing): metadata {"format": "pt"}, no strata checksum."""
    try:
        from safetensors.torch import save_file
        save_file(state, path, metadata={"format": "pt"})
        return
    except ImportError:
        pass
    names = {v: k for k, v in DTYPES.items()}
    header, blobs, offset = {"__metadata__": {"format": "pt"}}, [], 0
    for name in sorted(state):
        t = state[name].detach().contiguous()
        blob = t.numpy().tobytes() if t.numel() else b""
        header[name] = {"dtype": names[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def fmt(t):
    return ["%.9g" % v for v in t.detach().to(torch.float32).reshape(-1).tolist()]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--checkpoint", default=os.path.join(REFERENCE, "checkpoint_cnn.safetensors"))
    ap.add_argument("--output", default=os.path.join(REFERENCE, "checkpoint_cnn_outputs.txt"))
    ap.add_argument("--torch-output", default=os.path.join(REFERENCE, "checkpoint_cnn_torch.safetensors"),
                    help="where to write the loaded model's state_dict back as PyTorch would save it")
    ap.add_argument("--batch", type=int, default=6)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    torch.set_num_threads(1)
    meta, tensors = read_safetensors(args.checkpoint)
    state = {k: v for k, v in tensors.items() if not k.startswith("optimizer.")}
    model = build_cnn()
    model.load_state_dict(state, strict=True)
    model.eval()

    g = torch.Generator().manual_seed(args.seed)
    x = torch.randn(args.batch, 1, 8, 8, generator=g)
    with torch.no_grad():
        out = model(x)

    lines = [
        "# strata parity reference: a strata checkpoint loaded into torch.nn.Sequential, eval-mode outputs",
        f"# generated by tests/parity/checkpoint_to_torch.py with torch {torch.__version__} from "
        f"{os.path.basename(args.checkpoint)}; do not edit.",
        "# regenerate: /usr/bin/python3 tests/parity/checkpoint_to_torch.py",
        "# format: <name> <count> <values...>",
    ]
    for name, t in (("ckpt_cnn/x", x), ("ckpt_cnn/out", out)):
        v = fmt(t)
        lines.append(f"{name} {len(v)} " + " ".join(v))
    with open(args.output, "w") as f:
        f.write("\n".join(lines) + "\n")
    write_safetensors(args.torch_output, model.state_dict())

    print(f"torch {torch.__version__}; read {args.checkpoint}")
    print(f"  format {meta.get('strata.format')}, optimizer {meta.get('strata.optimizer')}, "
          f"steps {meta.get('strata.steps')}, crc32 {meta.get('strata.crc32')}")
    print(f"  loaded (strict): {', '.join(f'{k} {list(v.shape)} {str(v.dtype)[6:]}' for k, v in state.items())}")
    print(f"  skipped: {', '.join(k for k in tensors if k not in state)}")
    print(f"wrote {args.torch_output} ({os.path.getsize(args.torch_output)} bytes), the state_dict as torch saves it")
    print(f"wrote {args.output} ({os.path.getsize(args.output)} bytes); outputs:")
    for row in out.tolist():
        print("  " + " ".join("%+.6f" % v for v in row))
    return 0


if __name__ == "__main__":
    sys.exit(main())
