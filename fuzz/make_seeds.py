#!/usr/bin/env python3
"""Writes the seed corpora fuzz/corpus/<target>/: small valid and near-valid inputs for each
reader (a few hundred bytes each; the real data files are megabytes). Run from anywhere:

    python3 fuzz/make_seeds.py          # rewrites fuzz/corpus/{idx,csv,mnist_json,safetensors,journal}
    python3 fuzz/make_seeds.py --checkpoint   # also fuzz/corpus/checkpoint (compiles a C++ writer with g++)

The files are deterministic (gzip without a timestamp), so rerunning changes nothing.
"""
import gzip
import json
import os
import struct
import subprocess
import sys
import tempfile
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def gz(data: bytes) -> bytes:
    return gzip.compress(data, compresslevel=9, mtime=0)


def write(target: str, name: str, data: bytes) -> None:
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# ---- IDX: 00 00 <type> <rank>, big-endian uint32 dimensions, big-endian elements ----
def idx(type_code: int, dims, payload: bytes) -> bytes:
    return bytes([0, 0, type_code, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims) + payload


def idx_seeds():
    labels = idx(0x08, [6], bytes([0, 1, 2, 9, 5, 3]))
    images = idx(0x08, [2, 3, 4], bytes(range(0, 240, 10)))
    write("idx", "labels_u8", labels)
    write("idx", "images_u8_2x3x4", images)
    write("idx", "images_u8_2x3x4.gz", gz(images))
    write("idx", "image_u8_28x28.gz", gz(idx(0x08, [1, 28, 28], bytes((r * c) % 256 for r in range(28) for c in range(28)))))
    write("idx", "i8", idx(0x09, [4], struct.pack(">4b", -128, -1, 0, 127)))
    write("idx", "i16", idx(0x0B, [2, 2], struct.pack(">4h", -32768, -1, 1, 32767)))
    write("idx", "i32", idx(0x0C, [3], struct.pack(">3i", -2**31, 0, 2**31 - 1)))
    write("idx", "f32", idx(0x0D, [2, 1], struct.pack(">2f", 0.5, -1e30)))
    write("idx", "f64", idx(0x0E, [1, 2], struct.pack(">2d", 3.141592653589793, -0.0)))
    write("idx", "empty_dim", idx(0x08, [0, 28, 28], b""))
    # Near-valid: one byte short, one byte long, a dimension too large, two gzip members.
    write("idx", "truncated", images[:-1])
    write("idx", "trailing", images + b"\x00")
    write("idx", "huge_dims", idx(0x0E, [0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF], b"\x00" * 8))
    write("idx", "two_members.gz", gz(images[:10]) + gz(images[10:]))


# ---- CSV ----
def csv_seeds():
    write("csv", "iris_slice.csv", b"5,4,setosa,versicolor,virginica\n5.1,3.5,1.4,0.2,0\n4.9,3.0,1.4,0.2,0\n"
                                   b"7.0,3.2,4.7,1.4,1\n6.3,3.3,6.0,2.5,2\n5.8,2.7,5.1,1.9,2\n")
    boston = (b"2,3,,,\n\"CRIM\",\"ZN\",\"INDUS\",\"MEDV\"\n0.00632,18,2.31,24\n0.02731,0,7.07,21.6\n")
    write("csv", "boston_slice.csv", boston)
    write("csv", "names.csv", b"x,y,label\n1,2,0\n-3.5e-2,+4,1\n")
    write("csv", "quoted.csv", b"\"a\",\"b \"\"q\"\"\"\n\"1\", 2\r\n3,\"4\"\r\n")
    diabetes = b"59 2 32.1 101.0 157 93.2 38.0 4.0 4.8598 87\n48 1 21.6 87.0 183 103.2 70.0 3.0 3.8918 69\n"
    write("csv", "diabetes_slice.csv", diabetes)
    write("csv", "diabetes_slice.csv.gz", gz(diabetes))
    write("csv", "tabs.csv", b"Chins\tSitups\tJumps\n5\t162\t60\n2\t110\t60\n")
    write("csv", "semicolon.csv", b"a;b;MEDV\n1;2;3\n4;5;6\n")
    write("csv", "blank_lines.csv", b"\n  \n1,2\n\n3,4\n")
    # Near-valid: ragged, non-numeric cell, counts that disagree, unterminated quote.
    write("csv", "ragged.csv", b"1,2,3\n4,5\n")
    write("csv", "bad_cell.csv", b"1,2\n3,x\n")
    write("csv", "bad_counts.csv", b"3,1,a,b\n1,2\n")
    write("csv", "unterminated.csv", b"\"a,b\n1,2\n")


# ---- MNIST JSON: {"data": [784 grey levels per image]} ----
def mnist_json_seeds():
    image = [0] * 784
    for k in range(200, 220):
        image[k] = 1
    image[300] = 0.5
    image[301] = 0.123
    one = json.dumps({"data": image}, separators=(",", ":")).encode()
    write("mnist_json", "one_image.json", one)
    write("mnist_json", "one_image.json.gz", gz(one))
    write("mnist_json", "spaced.json", b'{ "data": [0, 1, 0.5, 1e-3, 0.0] , "extra": {"k": [1, "s", null, true]} }')
    write("mnist_json", "empty_data.json", b'{"data": []}')
    # Near-valid: a value out of range, a nested array, no "data", two "data" keys, truncated.
    write("mnist_json", "out_of_range.json", b'{"data": [0, 1.5]}')
    write("mnist_json", "nested.json", b'{"data": [[0, 1]]}')
    write("mnist_json", "no_data.json", b'{"pixels": [0, 1]}')
    write("mnist_json", "two_data.json", b'{"data": [0], "data": [1]}')
    write("mnist_json", "truncated.json", b'{"data": [0, 1, 0.5')


# ---- safetensors: u64 LE header length, JSON header padded to 8, data ----
def safetensors(tensors, metadata=None, crc=True, pad=True) -> bytes:
    header, data = {}, b""
    meta = dict(metadata or {})
    for name, dtype, shape, payload in tensors:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(payload)]}
        data += payload
    if crc:
        meta["strata.crc32"] = "%08x" % (zlib.crc32(data) & 0xFFFFFFFF)
    if meta:
        header = {"__metadata__": meta, **header}
    text = json.dumps(header, separators=(",", ":")).encode()
    if pad:
        text += b" " * ((8 - len(text) % 8) % 8)
    return struct.pack("<Q", len(text)) + text + data


def safetensors_seeds():
    f32 = struct.pack("<6f", 1.5, -0.25, 3e-38, 1e30, 0.0, -0.0)
    write("safetensors", "f32_2x3", safetensors([("w", "F32", [2, 3], f32)], {"note": "demo"}))
    write("safetensors", "f32_2x3_nocrc", safetensors([("w", "F32", [2, 3], f32)], crc=False))
    write("safetensors", "dtypes", safetensors([
        ("a.f64", "F64", [2], struct.pack("<2d", 3.141592653589793, -1e-300)),
        ("b.i64", "I64", [], struct.pack("<q", -1234567890123)),
        ("c.u8", "U8", [3], b"\x00\x7f\xff"),
        ("d.bool", "BOOL", [1], b"\x01"),
        ("e.bf16", "BF16", [1, 1], b"\x80\x3f"),
        ("f.empty", "F32", [0, 4], b""),
    ]))
    write("safetensors", "empty", safetensors([], crc=False))
    write("safetensors", "unpadded", safetensors([("x", "I32", [1], struct.pack("<i", 7))], crc=False, pad=False))
    # Near-valid: truncated data, a bad checksum, overlapping tensors, a hole.
    good = safetensors([("w", "F32", [2, 3], f32)])
    write("safetensors", "truncated", good[:-3])
    write("safetensors", "bad_crc", good[:-1] + b"\x01")
    hdr = b'{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"b":{"dtype":"U8","shape":[2],"data_offsets":[1,3]}}'
    write("safetensors", "overlap", struct.pack("<Q", len(hdr)) + hdr + b"\x01\x02\x03")
    hdr = b'{"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}'
    write("safetensors", "hole", struct.pack("<Q", len(hdr)) + hdr + b"\x01\x02")


# ---- results journal: one trial record per line ----
def journal_seeds():
    def record(lr, status="completed", **extra):
        params = {"lr": lr, "batch_size": 32}
        r = {"key": json.dumps(dict(sorted(params.items())), separators=(",", ":")), "index": 0, "params": params,
             "parameter_count": 354, "status": status, "message": "", "diverged_step": 0,
             "metric_name": "accuracy",
             "history": [{"epoch": 1, "train_loss": 0.69, "train_metric": 0.52, "val_loss": None,
                          "val_metric": None, "lr": lr, "seconds": 0.12, "train_seconds": 0.1}],
             "results": {"val_loss": 0.31, "test_accuracy": 0.91}, "best_epoch": 0, "seconds": 2.4,
             "seconds_per_epoch": 0.12, "seed": 0, "started_at": "2024-05-01T12:00:00Z"}
        r.update(extra)
        return json.dumps(r, separators=(",", ":")).encode() + b"\n"
    write("journal", "one.jsonl", record(0.01))
    write("journal", "diverged.jsonl", record(0.5, "diverged", message="loss nan", diverged_step=3,
                                            history=[{"epoch": 1, "train_loss": "nan", "train_metric": None,
                                                      "val_loss": "inf", "val_metric": None}],
                                            results={"val_loss": "-inf"}))
    write("journal", "minimal.jsonl", b'{"params":{"lr":0.1}}\n{}\n')
    write("journal", "duplicate_and_tail.jsonl", record(0.02) + b"\n  \r\n" + record(0.02) + b'{"params":{"lr"')
    # Near-valid: a field of the wrong type, an unknown status, not JSON.
    write("journal", "wrong_type.jsonl", b'{"params":{"lr":0.1},"index":-1}\n')
    write("journal", "bad_status.jsonl", b'{"status":"paused"}\n')
    write("journal", "not_json.jsonl", b'{"params":\n')


# ---- checkpoint: save_checkpoint of the fuzz target's model, compiled with g++ ----
CHECKPOINT_WRITER = r'''
#include <strata/strata.hpp>
#include <strata/train/checkpoint.hpp>
using namespace strata;
using Net = Sequential<Input<2>, Dense<3>, BatchNorm, ReLU, Dense<2>>;  // as in fuzz/checkpoint.cpp
int main(int argc, char** argv) {
  Model<Net, loss::CrossEntropy, optim::Adam> m;
  save_checkpoint(m, std::string(argv[1]) + "/fresh.safetensors");
  save_checkpoint(m, std::string(argv[1]) + "/with_fit_state.safetensors",
                  {{"fit.state", R"({"epoch":1,"best_epoch":1,"wait":0,"best":0.5,"history":[{"epoch":1,)"
                                 R"("train_loss":0.7,"train_metric":0.5,"val_loss":0.6,"val_metric":null,"lr":0.001,)"
                                 R"("seconds":0.1,"train_seconds":0.1}]})"}});
  return argc > 2;
}
'''


def checkpoint_seeds():
    out = os.path.join(HERE, "corpus", "checkpoint")
    os.makedirs(out, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "writer.cpp")
        with open(src, "w") as f:
            f.write(CHECKPOINT_WRITER)
        exe = os.path.join(tmp, "writer")
        subprocess.run(["g++", "-std=c++20", "-O0", "-fopenmp", "-I", os.path.join(ROOT, "include"),
                        "-isystem", "/usr/include/eigen3", src, "-lz", "-o", exe], check=True)
        subprocess.run([exe, out], check=True)


if __name__ == "__main__":
    idx_seeds()
    csv_seeds()
    mnist_json_seeds()
    safetensors_seeds()
    journal_seeds()
    if "--checkpoint" in sys.argv:
        checkpoint_seeds()
