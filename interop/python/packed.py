"""The workbench's packed token datasets, read from Python: the same batches as the C# trainer, batch for batch.

A dataset folder (`stag data prepare` / the notebooks' data/packed/<tokenizer>) holds manifest.json and one token
file per split. A token file (lib/StagNotebooks/Data/TokenFile.cs) is a 1024-byte header of 256 little-endian int32
-- [0] magic 0x53544147 "STAG", [1] version 1, [2..3] token count (int64), [4] bytes per token (2 = uint16,
4 = uint32), [5] vocabulary size, [6] end-of-text id -- followed by the tokens.

Training batch i of seed s (lib/StagNotebooks/Data/TokenBatches.cs, RandomWindowBatches) is B windows of T+1 tokens
whose starts come from .NET's seeded System.Random (the Knuth subtractive generator .NET keeps for seeded instances)
seeded with (int)(s * 1000003 + i * 7919 + 17); `DotNetRandom` reproduces it exactly. Validation windows
(SequentialWindows) are the split read from its start in non-overlapping windows of T+1 tokens.

Standard library + numpy + torch. Errors name the file and the field.

    python3 packed.py info DATA_DIR
    python3 packed.py batch DATA_DIR OUT.safetensors --seed 1 --index 0 --batch 4 --context 32 [--split train]
    python3 packed.py windows DATA_DIR OUT.safetensors --batch 4 --context 32 --max-batches 2 [--split val]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from typing import TYPE_CHECKING, Dict, Iterator, List, Optional, Tuple

if TYPE_CHECKING:   # torch is imported where tensors are made, so `info` and the header checks start fast
    import torch

import numpy as np

MAGIC, VERSION, HEADER_INTS = 0x53544147, 1, 256
HEADER_BYTES = HEADER_INTS * 4
MANIFEST_VERSION = 1
_INT_MAX = 2147483647


def _wrap(value: int, bits: int) -> int:
    """Two's-complement wrap-around of a Python int to a signed integer of `bits` bits (C#'s unchecked arithmetic)."""
    value &= (1 << bits) - 1
    return value - (1 << bits) if value >> (bits - 1) else value


class DotNetRandom:
    """System.Random(int seed) of .NET 6 and later, bit for bit: the CompatPrng (Knuth's subtractive generator as .NET
    ships it) behind Net5CompatSeedImpl, with Next(maxValue) and NextInt64(minValue, maxValue) as that class computes them."""

    def __init__(self, seed: int):
        seed = _wrap(seed, 32)
        subtraction = _INT_MAX if seed == -2147483648 else abs(seed)
        mj = _wrap(161803398 - subtraction, 32)
        a = [0] * 56
        a[55] = mj
        mk, ii = 1, 0
        for _ in range(1, 55):
            ii += 21
            if ii >= 55:
                ii -= 55
            a[ii] = mk
            mk = _wrap(mj - mk, 32)
            if mk < 0:
                mk += _INT_MAX
            mj = a[ii]
        for _ in range(1, 5):
            for i in range(1, 56):
                n = i + 30
                if n >= 55:
                    n -= 55
                a[i] = _wrap(a[i] - a[1 + n], 32)
                if a[i] < 0:
                    a[i] += _INT_MAX
        self._a, self._inext, self._inextp = a, 0, 21

    def internal_sample(self) -> int:
        inext = self._inext + 1
        if inext >= 56:
            inext = 1
        inextp = self._inextp + 1
        if inextp >= 56:
            inextp = 1
        a = self._a
        ret = _wrap(a[inext] - a[inextp], 32)
        if ret == _INT_MAX:
            ret -= 1
        if ret < 0:
            ret += _INT_MAX
        a[inext] = ret
        self._inext, self._inextp = inext, inextp
        return ret

    def sample(self) -> float:
        return self.internal_sample() * (1.0 / _INT_MAX)

    def next(self, max_value: int) -> int:
        """Next(maxValue): [0, maxValue)."""
        return int(self.sample() * max_value)

    def _next_uint64(self) -> int:
        return self.next(1 << 22) | (self.next(1 << 22) << 22) | (self.next(1 << 20) << 44)

    def next_int64(self, min_value: int, max_value: int) -> int:
        """NextInt64(minValue, maxValue): [minValue, maxValue)."""
        exclusive = (max_value - min_value) & ((1 << 64) - 1)
        if exclusive > 1:
            bits = (exclusive - 1).bit_length()   # BitOperations.Log2Ceiling
            while True:
                result = self._next_uint64() >> (64 - bits)
                if result < exclusive:
                    return result + min_value
        return min_value


class TokenFile:
    """A packed token file, memory-mapped; a wrong magic, version, dtype or size is an error naming the file and field."""

    def __init__(self, path: str):
        self.path = path
        if not os.path.isfile(path):
            raise FileNotFoundError(f"{path}: no such token file (run `stag data prepare`)")
        length = os.path.getsize(path)
        if length < HEADER_BYTES:
            raise ValueError(f"{path}: {length} bytes is too short for a token file header ({HEADER_BYTES} bytes)")
        header = np.fromfile(path, dtype="<i4", count=HEADER_INTS)
        if int(header[0]) != MAGIC:
            raise ValueError(f"{path}: header field magic is 0x{int(header[0]) & 0xffffffff:08x}, expected 0x{MAGIC:08x}: not a StagNotebooks token file")
        if int(header[1]) != VERSION:
            raise ValueError(f"{path}: header field version is {int(header[1])}, this reader reads version {VERSION}")
        width = int(header[4])
        if width not in (2, 4):
            raise ValueError(f"{path}: header field dtype is {width} bytes per token, expected 2 (uint16) or 4 (uint32)")
        count = (int(header[2]) & 0xffffffff) | (int(header[3]) << 32)
        if length != HEADER_BYTES + count * width:
            raise ValueError(f"{path}: header field count says {count} tokens ({count * width} bytes) but the file holds "
                             f"{length - HEADER_BYTES} bytes after the header")
        self.count, self.bytes_per_token = count, width
        self.vocab_size, self.end_of_text = int(header[5]), int(header[6])
        self._tokens = np.memmap(path, dtype="<u2" if width == 2 else "<u4", mode="r", offset=HEADER_BYTES, shape=(count,)) \
            if count > 0 else np.zeros(0, dtype=np.int64)

    def read(self, start: int, n: int) -> np.ndarray:
        """Tokens [start, start+n) as int64."""
        if start < 0 or start + n > self.count:
            raise IndexError(f"{self.path}: tokens [{start}, {start + n}) outside [0, {self.count})")
        return np.asarray(self._tokens[start:start + n], dtype=np.int64)


class PackedDataset:
    """A packed dataset folder: manifest.json and its splits' token files."""

    def __init__(self, folder: str):
        self.folder = folder
        path = os.path.join(folder, "manifest.json")
        if not os.path.isfile(path):
            raise FileNotFoundError(f"{path}: no such file (run `stag data prepare`, or open a notebook once: data/packed/<tokenizer>)")
        try:
            with open(path, encoding="utf-8") as f:
                m = json.load(f)
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise ValueError(f"{path}: not valid JSON ({e})") from None

        def need(ok, field, why):
            if not ok:
                raise ValueError(f"{path}: field {field}: {why}")
        need(isinstance(m, dict), "(root)", "not a JSON object")
        need(m.get("Version") == MANIFEST_VERSION, "Version", f"{m.get('Version')!r}, this reader reads version {MANIFEST_VERSION}")
        need(isinstance(m.get("VocabSize"), int) and m["VocabSize"] > 0, "VocabSize", repr(m.get("VocabSize")))
        need(isinstance(m.get("Splits"), dict) and m["Splits"], "Splits", "missing or empty")
        for name, s in m["Splits"].items():
            need(isinstance(s, dict) and isinstance(s.get("File"), str), f"Splits.{name}.File", "missing")
            need(isinstance(s.get("BytesPerToken"), (int, float)), f"Splits.{name}.BytesPerToken", "missing")
        self.manifest = m
        self.vocab_size: int = m["VocabSize"]
        self.tokenizer: str = m.get("Tokenizer", "")

    def split(self, name: str) -> TokenFile:
        splits = self.manifest["Splits"]
        if name not in splits:
            raise KeyError(f"{self.folder}: no split '{name}' (have {', '.join(splits)})")
        f = TokenFile(os.path.join(self.folder, splits[name]["File"]))
        if f.vocab_size > self.vocab_size:
            raise ValueError(f"{f.path}: header field vocab {f.vocab_size} exceeds the manifest's VocabSize {self.vocab_size}")
        return f

    def bytes_per_token(self, name: str) -> float:
        return float(self.manifest["Splits"][name]["BytesPerToken"])


def batch_seed(seed: int, index: int) -> int:
    """The int the C# trainer seeds System.Random with for batch `index`: unchecked((int)(seed * 1000003 + index * 7919 + 17))."""
    return _wrap(_wrap(seed * 1_000_003 + index * 7_919 + 17, 64), 32)


class RandomWindowBatches:
    """Training batch i: B random windows of T+1 tokens; depends only on (seed, i), as the C# RandomWindowBatches."""

    def __init__(self, file: TokenFile, seed: int):
        self.file, self.seed = file, seed

    def starts(self, index: int, batch_size: int, context: int) -> List[int]:
        if self.file.count < context + 2:
            raise ValueError(f"{self.file.path}: {self.file.count} tokens cannot fill a window of {context + 1}")
        rng = DotNetRandom(batch_seed(self.seed, index))
        return [rng.next_int64(0, self.file.count - context - 1) for _ in range(batch_size)]

    def batch(self, index: int, batch_size: int, context: int, rows: Optional[Tuple[int, int]] = None) -> Tuple[torch.Tensor, torch.Tensor]:
        """Inputs and targets (rows, T) int64 of global batch `index`; `rows` = [first, end) selects a rank's shard."""
        import torch
        starts = self.starts(index, batch_size, context)
        if rows is not None:
            starts = starts[rows[0]:rows[1]]
        w = np.stack([self.file.read(s, context + 1) for s in starts]) if starts else np.zeros((0, context + 1), np.int64)
        w = torch.from_numpy(w)
        return w[:, :context].contiguous(), w[:, 1:].contiguous()


def sequential_windows(file: TokenFile, batch_size: int, context: int, max_batches: int) -> Iterator[Tuple[torch.Tensor, torch.Tensor]]:
    """Validation batches: non-overlapping windows of T+1 tokens from the split's start, as the C# SequentialWindows."""
    import torch
    windows = (file.count - 1) // context
    nxt = 0
    for _ in range(max_batches):
        if nxt >= windows:
            break
        rows = min(batch_size, windows - nxt)
        w = np.stack([file.read((nxt + r) * context, context + 1) for r in range(rows)])
        nxt += rows
        w = torch.from_numpy(w)
        yield w[:, :context].contiguous(), w[:, 1:].contiguous()


# ------------------------------------------------------------------------------------------------------------------ CLI

def _save(path: str, tensors: Dict[str, "torch.Tensor"]) -> None:
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from stagformer import save_safetensors
    save_safetensors(path, tensors)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("info", help="the manifest's splits and their token files' headers, as JSON")
    p.add_argument("data")
    p = sub.add_parser("batch", help="training batch INDEX of SEED as int64 'inputs' and 'targets' (B, T)")
    p.add_argument("data")
    p.add_argument("out")
    p.add_argument("--split", default="train")
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--index", type=int, nargs="+", required=True)
    p.add_argument("--batch", type=int, required=True)
    p.add_argument("--context", type=int, required=True)
    p = sub.add_parser("windows", help="validation windows concatenated as int64 'inputs' and 'targets'")
    p.add_argument("data")
    p.add_argument("out")
    p.add_argument("--split", default="val")
    p.add_argument("--batch", type=int, required=True)
    p.add_argument("--context", type=int, required=True)
    p.add_argument("--max-batches", type=int, required=True)
    args = parser.parse_args(argv)
    data = PackedDataset(args.data)
    if args.command != "info":
        import torch
    if args.command == "info":
        out = {"folder": data.folder, "tokenizer": data.tokenizer, "vocab_size": data.vocab_size, "splits": {}}
        for name in data.manifest["Splits"]:
            f = data.split(name)
            out["splits"][name] = {"file": f.path, "tokens": f.count, "bytes_per_token_id": f.bytes_per_token,
                                   "vocab": f.vocab_size, "end_of_text": f.end_of_text}
        print(json.dumps(out, indent=2))
    elif args.command == "batch":
        source = RandomWindowBatches(data.split(args.split), args.seed)
        pairs = [source.batch(i, args.batch, args.context) for i in args.index]
        _save(args.out, {"inputs": torch.cat([x for x, _ in pairs]), "targets": torch.cat([y for _, y in pairs])})
    else:
        pairs = list(sequential_windows(data.split(args.split), args.batch, args.context, args.max_batches))
        _save(args.out, {"inputs": torch.cat([x for x, _ in pairs]), "targets": torch.cat([y for _, y in pairs])})


if __name__ == "__main__":
    try:
        main()
    except (ValueError, KeyError, FileNotFoundError, IndexError) as e:
        print(f"packed.py: error: {e.args[0] if e.args else e}", file=sys.stderr)
        sys.exit(2)
