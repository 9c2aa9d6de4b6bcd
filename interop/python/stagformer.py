"""StagFormer (staggered Transformer) in plain PyTorch: the reference twin of lib/StagNotebooks/Model/*.cs.

Same parameter names as the workbench's state dict, same forward pass, every variant (p stacks, separate/shared
weights, cross windows, null slot or zero-empty rows, RoPE as the workbench applies it, GeGLU or GELU, RMSNorm,
learned stack combination, learned positions, the non-staggered control CrossLag = 0). Runs on PyTorch >= 1.13
(no scaled_dot_product_attention: attention is written out). Reads and writes safetensors with the standard library
(no safetensors package), with the model config JSON in __metadata__["config"] as the workbench writes it.

    python3 stagformer.py logits TOKENS.safetensors MODEL.safetensors OUT.safetensors [MODEL2 OUT2 ...]
    python3 stagformer.py init CONFIG.json OUT.safetensors [--seed 0] [--randomize] [--pt OUT.pt]
                               [--tokens TOKENS.safetensors --logits LOGITS.safetensors]
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import struct
import sys
from typing import Dict, List, Optional, Tuple

import torch
import torch.nn.functional as F
from torch import nn


# --------------------------------------------------------------------------------------------------------------- config

@dataclasses.dataclass
class StagFormerConfig:
    """Field for field the workbench's StagFormerConfig (enums as their names), so its config.json loads as is."""
    VocabSize: int = 4096
    DModel: int = 128
    Heads: int = 4
    FfnHidden: int = 512
    Ffn: str = "GeGLU"                 # GeGLU | Gelu
    LayersPerStack: int = 2            # h
    Stacks: int = 2                    # p (1 = the baseline Transformer)
    Weights: str = "Separate"          # Separate | Shared
    CrossWindow: Optional[int] = None  # keys k in [i-lag-w+1, i-lag]; None = the whole past
    CrossLag: int = 1                  # 1 = staggered; 0 = the non-staggered control (k <= i)
    EmptyCross: str = "NullSlot"       # NullSlot | Zero
    Combination: str = "LastStack"     # LastStack | LearnedLinear
    Positional: str = "Rope"           # Rope | Learned | None
    RopeTheta: float = 10000.0
    TiedEmbeddings: bool = True
    Dropout: float = 0.0
    MaxContext: int = 256
    NormEps: float = 1e-6
    # Initialisation options of the workbench (they change how weights start, not the forward pass):
    ZeroInitCrossOutput: bool = False  # cross-attention output projections start at zero
    ResidualInit: str = "TotalDepth"   # TotalDepth: 0.02/sqrt(2*p*h) | StackDepth: 0.02/sqrt(2*h)
    CrossGate: str = "None"            # None | PerLayer | PerHead: tanh(g) on cross-attention's output, g starts at 0

    @property
    def head_dim(self) -> int:
        return self.DModel // self.Heads

    @classmethod
    def from_json(cls, text: str, source: str = "config") -> "StagFormerConfig":
        d = json.loads(text)
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ValueError(f"{source}: unknown config field(s) {unknown}")
        c = cls(**d)
        c.validate()
        return c

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=2)

    def validate(self) -> None:
        def need(ok, field, why):
            if not ok:
                raise ValueError(f"config field {field}: {why}")
        need(self.DModel % self.Heads == 0, "Heads", f"{self.Heads} does not divide DModel {self.DModel}")
        need(self.Positional != "Rope" or self.head_dim % 2 == 0, "Heads", "RoPE needs an even head dimension")
        need(self.Ffn in ("GeGLU", "Gelu"), "Ffn", self.Ffn)
        need(self.Weights in ("Separate", "Shared"), "Weights", self.Weights)
        need(self.Stacks > 1 or self.Weights == "Separate", "Weights", "a baseline has nothing to share")
        need(self.CrossWindow is None or self.CrossWindow >= 1, "CrossWindow", str(self.CrossWindow))
        need(self.CrossLag in (0, 1), "CrossLag", str(self.CrossLag))
        need(self.EmptyCross in ("NullSlot", "Zero"), "EmptyCross", self.EmptyCross)
        need(self.Combination in ("LastStack", "LearnedLinear"), "Combination", self.Combination)
        need(self.Combination == "LastStack" or self.Stacks > 1, "Combination", "a learned combination needs Stacks > 1")
        need(self.Positional in ("Rope", "Learned", "None"), "Positional", self.Positional)
        need(self.CrossGate in ("None", "PerLayer", "PerHead"), "CrossGate", self.CrossGate)
        need(self.CrossGate == "None" or self.Stacks > 1, "CrossGate", "a baseline has no cross-attention to gate")


# --------------------------------------------------------------------------------------------------------------- layers

class RMSNorm(nn.Module):
    """x / max(rms(x), eps) * weight, computed as the workbench does: normalize(x) * weight * sqrt(d)."""

    def __init__(self, dim: int, eps: float):
        super().__init__()
        self.eps, self.sqrt_dim = eps, math.sqrt(dim)
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        return F.normalize(x, p=2.0, dim=-1, eps=self.eps * self.sqrt_dim) * self.weight * self.sqrt_dim


class RotaryEmbedding(nn.Module):
    """Rotate-half RoPE: x*cos + [-x2, x1]*sin; tables computed in float64 and cast to x's dtype (not saved)."""

    def __init__(self, head_dim: int, max_context: int, theta: float):
        super().__init__()
        inv_freq = torch.pow(theta, -torch.arange(0, head_dim, 2, dtype=torch.float64) / head_dim)    # (D/2)
        angles = torch.outer(torch.arange(max_context, dtype=torch.float64), inv_freq)               # (T, D/2)
        full = torch.cat([angles, angles], -1)                                                       # (T, D)
        self.register_buffer("cos", full.cos(), persistent=False)
        self.register_buffer("sin", full.sin(), persistent=False)

    def forward(self, x, start: int):
        """Rotates x (..., T, D) as positions [start, start+T)."""
        t, half = x.shape[-2], x.shape[-1] // 2
        cos = self.cos.to(x.dtype)[start:start + t]
        sin = self.sin.to(x.dtype)[start:start + t]
        rotated = torch.cat([-x[..., half:], x[..., :half]], -1)
        return x * cos + rotated * sin


def attention(q, k, v, visible=None, dropout_p: float = 0.0, training: bool = False):
    """softmax(q k^T / sqrt(D)) v over the keys where visible (Tq, Tk) is True. (B, H, Tq, D) -> (B, H, Tq, D)."""
    scores = torch.matmul(q, k.transpose(-2, -1)) / math.sqrt(q.shape[-1])
    if visible is not None:
        scores = scores.masked_fill(~visible, float("-inf"))
    weights = torch.softmax(scores, dim=-1)
    if dropout_p > 0 and training:
        weights = F.dropout(weights, dropout_p)
    return torch.matmul(weights, v)


class CausalSelfAttention(nn.Module):
    def __init__(self, c: StagFormerConfig):
        super().__init__()
        self.heads, self.head_dim, self.dropout = c.Heads, c.head_dim, c.Dropout
        self.qkv_proj = nn.Linear(c.DModel, 3 * c.DModel, bias=False)   # rows: Q heads, K heads, V heads
        self.o_proj = nn.Linear(c.DModel, c.DModel, bias=False)

    def forward(self, x, start: int, rope: Optional[RotaryEmbedding]):
        b, t, _ = x.shape
        h = self.heads
        qkv = self.qkv_proj(x).view(b, t, 3 * h, self.head_dim).transpose(1, 2)         # (B, 3H, T, D)
        q, k, v = qkv[:, :h], qkv[:, h:2 * h], qkv[:, 2 * h:]
        if rope is not None:
            q, k = rope(q, start), rope(k, start)
        causal = torch.ones(t, t, dtype=torch.bool, device=x.device).tril()
        y = attention(q, k, v, causal, self.dropout, self.training)                         # (B, H, T, D)
        return self.o_proj(y.transpose(1, 2).reshape(b, t, -1))


class StaggeredCrossAttention(nn.Module):
    """Query at i sees memory k with i-lag-w+1 <= k <= i-lag; RoPE on queries at i and keys at k; memory normed first."""

    def __init__(self, c: StagFormerConfig):
        super().__init__()
        self.heads, self.head_dim, self.lag, self.window = c.Heads, c.head_dim, c.CrossLag, c.CrossWindow
        self.dropout, self.empty = c.Dropout, c.EmptyCross
        self.memory_norm = RMSNorm(c.DModel, c.NormEps)
        self.q_proj = nn.Linear(c.DModel, c.DModel, bias=False)
        self.kv_proj = nn.Linear(c.DModel, 2 * c.DModel, bias=False)                    # rows: K heads, V heads
        self.o_proj = nn.Linear(c.DModel, c.DModel, bias=False)
        if self.empty == "NullSlot":
            self.null_key = nn.Parameter(torch.randn(1, c.Heads, 1, c.head_dim) * 0.02)
            self.null_value = nn.Parameter(torch.zeros(1, c.Heads, 1, c.head_dim))
        if c.CrossGate != "None":
            self.cross_gate = nn.Parameter(torch.zeros(c.Heads if c.CrossGate == "PerHead" else 1))

    def forward(self, x, memory, start: int, rope: Optional[RotaryEmbedding]):
        """x: normed queries (B, T, d); memory: stack s-1's output (B, T, d) at the same positions [start, start+T)."""
        b, t, _ = x.shape
        h = self.heads
        kv = self.kv_proj(self.memory_norm(memory)).view(b, t, 2 * h, self.head_dim).transpose(1, 2)   # (B, 2H, T, D)
        k, v = kv[:, :h], kv[:, h:]
        q = self.q_proj(x).view(b, t, h, self.head_dim).transpose(1, 2)                 # (B, H, T, D)
        if rope is not None:
            k, q = rope(k, start), rope(q, start)
        pos = torch.arange(start, start + t, device=x.device)
        visible = pos.unsqueeze(0) <= pos.unsqueeze(1) - self.lag                        # (T, Tk)
        if self.window is not None:
            visible = visible & (pos.unsqueeze(0) > pos.unsqueeze(1) - self.lag - self.window)
        row_has_key = None
        if self.empty == "NullSlot":
            k = torch.cat([self.null_key.expand(b, -1, -1, -1).to(k.dtype), k], 2)
            v = torch.cat([self.null_value.expand(b, -1, -1, -1).to(v.dtype), v], 2)
            visible = torch.cat([torch.ones(t, 1, dtype=torch.bool, device=x.device), visible], 1)
        else:
            row_has_key = visible.any(1)                                                 # (T)
            visible = visible | ~row_has_key.unsqueeze(1)                                # softmax over nothing is NaN
        y = attention(q, k, v, visible, self.dropout, self.training)                     # (B, H, T, D)
        if row_has_key is not None:
            y = y * row_has_key.view(1, 1, t, 1).to(y.dtype)                             # empty rows output zero
        if hasattr(self, "cross_gate"):
            y = y * torch.tanh(self.cross_gate).view(1, -1, 1, 1).to(y.dtype)             # per layer or per head
        return self.o_proj(y.transpose(1, 2).reshape(b, t, -1))


class FeedForward(nn.Module):
    def __init__(self, c: StagFormerConfig):
        super().__init__()
        self.kind = c.Ffn
        if self.kind == "GeGLU":
            self.gate_proj = nn.Linear(c.DModel, c.FfnHidden, bias=False)
        self.up_proj = nn.Linear(c.DModel, c.FfnHidden, bias=False)
        self.down_proj = nn.Linear(c.FfnHidden, c.DModel, bias=False)

    def forward(self, x):
        h = F.gelu(self.gate_proj(x)) * self.up_proj(x) if self.kind == "GeGLU" else F.gelu(self.up_proj(x))
        return self.down_proj(h)


class CrossAttentionBlock(nn.Module):
    def __init__(self, c: StagFormerConfig):
        super().__init__()
        self.cross_norm = RMSNorm(c.DModel, c.NormEps)
        self.cross_attn = StaggeredCrossAttention(c)


class TransformerBlock(nn.Module):
    """Pre-norm: x + SelfAttn(norm x); [x + CrossAttn(norm x, M)]; x + FFN(norm x)."""

    def __init__(self, c: StagFormerConfig):
        super().__init__()
        self.attn_norm = RMSNorm(c.DModel, c.NormEps)
        self.self_attn = CausalSelfAttention(c)
        self.ffn_norm = RMSNorm(c.DModel, c.NormEps)
        self.ffn = FeedForward(c)
        self.resid_dropout = nn.Dropout(c.Dropout) if c.Dropout > 0 else nn.Identity()

    def forward(self, x, start, rope, cross: Optional[CrossAttentionBlock] = None, memory=None):
        x = x + self.resid_dropout(self.self_attn(self.attn_norm(x), start, rope))
        if cross is not None:
            x = x + self.resid_dropout(cross.cross_attn(cross.cross_norm(x), memory, start, rope))
        return x + self.resid_dropout(self.ffn(self.ffn_norm(x)))


class LayerStack(nn.Module):
    """h blocks; upper stacks (and a shared-weights model's one stack) also own one cross sublayer per block."""

    def __init__(self, c: StagFormerConfig, with_cross: bool):
        super().__init__()
        self.layers = nn.ModuleList([TransformerBlock(c) for _ in range(c.LayersPerStack)])
        self.cross_layers = nn.ModuleList([CrossAttentionBlock(c) for _ in range(c.LayersPerStack)] if with_cross else [])

    def forward(self, e, start, rope, memory=None):
        x = e
        for l, layer in enumerate(self.layers):
            x = layer(x, start, rope, self.cross_layers[l] if memory is not None else None, memory)
        return x


# ---------------------------------------------------------------------------------------------------------------- model

class StagFormer(nn.Module):
    """p stacks; every stack reads the token embeddings E; pass s cross-attends to pass s-1's final output."""

    def __init__(self, c: StagFormerConfig):
        super().__init__()
        c.validate()
        self.config = c
        self.tok_embeddings = nn.Embedding(c.VocabSize, c.DModel)
        if c.Positional == "Learned":
            self.pos_embeddings = nn.Embedding(c.MaxContext, c.DModel)
        shared = c.Weights == "Shared"
        count = 1 if shared else c.Stacks
        self.stacks = nn.ModuleList([LayerStack(c, with_cross=(c.Stacks > 1) if shared else s > 0) for s in range(count)])
        self.final_norm = RMSNorm(c.DModel, c.NormEps)
        if not c.TiedEmbeddings:
            self.lm_head = nn.Linear(c.DModel, c.VocabSize, bias=False)
        if c.Combination == "LearnedLinear":
            init = torch.zeros(c.Stacks)
            init[-1] = 1.0                                                               # starts as "last stack only"
            self.stack_mix = nn.Parameter(init)
        self.rope = RotaryEmbedding(c.head_dim, c.MaxContext, c.RopeTheta) if c.Positional == "Rope" else None
        self.embed_dropout = nn.Dropout(c.Dropout) if c.Dropout > 0 else nn.Identity()
        self.reset_parameters()

    @torch.no_grad()
    def reset_parameters(self):
        """GPT-2 style, as the workbench: N(0, 0.02); o_proj/down_proj N(0, 0.02/sqrt(2 p h)); norms 1; null slot kept."""
        depth = self.config.LayersPerStack * (1 if self.config.ResidualInit == "StackDepth" else self.config.Stacks)
        out_std = 0.02 / math.sqrt(2.0 * depth)
        for name, p in self.named_parameters():
            if name.endswith("norm.weight") or name == "stack_mix" or "null_" in name or name.endswith("cross_gate"):
                continue
            output = name.endswith("o_proj.weight") or name.endswith("down_proj.weight")
            if output and self.config.ZeroInitCrossOutput and "cross_attn" in name:
                nn.init.zeros_(p)
                continue
            nn.init.normal_(p, 0.0, out_std if output else 0.02)

    def stack_for(self, s: int) -> LayerStack:
        return self.stacks[0] if self.config.Weights == "Shared" else self.stacks[s]

    def forward(self, tokens, start: int = 0, return_stack_outputs: bool = False):
        """tokens (B, T) at positions [start, start+T) -> logits (B, T, V)."""
        c = self.config
        if start + tokens.shape[1] > c.MaxContext:
            raise ValueError(f"positions up to {start + tokens.shape[1]} exceed MaxContext {c.MaxContext}")
        e = self.tok_embeddings(tokens)
        if c.Positional == "Learned":
            e = e + self.pos_embeddings(torch.arange(start, start + tokens.shape[1], device=tokens.device))
        e = self.embed_dropout(e)
        outs: List[torch.Tensor] = []
        below = None
        for s in range(c.Stacks):
            below = self.stack_for(s)(e, start, self.rope, memory=below)
            outs.append(below)
        if c.Combination == "LearnedLinear":
            final = (torch.stack(outs, 0) * self.stack_mix.view(-1, 1, 1, 1)).sum(0)     # (B, T, d)
        else:
            final = outs[-1]
        hidden = self.final_norm(final)
        logits = self.lm_head(hidden) if not c.TiedEmbeddings else torch.matmul(hidden, self.tok_embeddings.weight.t())
        return (logits, outs) if return_stack_outputs else logits

    # ------------------------------------------------------------------------------------------------- checkpoints

    @classmethod
    def from_safetensors(cls, path: str, config: Optional[StagFormerConfig] = None) -> "StagFormer":
        tensors, metadata = load_safetensors(path)
        if config is None:
            if "config" not in metadata:
                raise ValueError(f"{path}: no __metadata__['config']; pass the model's config")
            config = StagFormerConfig.from_json(metadata["config"], f"{path} (__metadata__.config)")
        model = cls(config)
        model.load_checked(tensors, path)
        return model

    def load_checked(self, tensors: Dict[str, torch.Tensor], source: str) -> None:
        """load_state_dict after naming every tensor whose name or shape differs (as the workbench reports it)."""
        want = {k: tuple(v.shape) for k, v in self.state_dict().items()}
        problems = [f"{k}: missing from the checkpoint (model expects {list(s)})" for k, s in want.items() if k not in tensors]
        problems += [f"{k}: checkpoint has {list(tensors[k].shape)}, model expects {list(s)}"
                     for k, s in want.items() if k in tensors and tuple(tensors[k].shape) != s]
        problems += [f"{k}: in the checkpoint but not in the model" for k in tensors if k not in want]
        if problems:
            raise ValueError(f"checkpoint {source} does not match the model ({len(problems)} tensor(s)):\n  " + "\n  ".join(problems))
        own = self.state_dict()
        self.load_state_dict({k: t.to(own[k].dtype) for k, t in tensors.items()})

    def save_safetensors(self, path: str, dtype: Optional[torch.dtype] = None) -> None:
        sd = {k: (v.to(dtype) if dtype is not None and v.is_floating_point() else v) for k, v in self.state_dict().items()}
        save_safetensors(path, sd, {"format": "pt", "config": self.config.to_json()})


# ----------------------------------------------------------------------------------------------------------- safetensors

_DTYPES = {"F64": torch.float64, "F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16, "I64": torch.int64,
           "I32": torch.int32, "I16": torch.int16, "I8": torch.int8, "U8": torch.uint8, "BOOL": torch.bool}
_NAMES = {v: k for k, v in _DTYPES.items()}


def load_safetensors(path: str) -> Tuple[Dict[str, torch.Tensor], Dict[str, str]]:
    """Every tensor (CPU, the file's dtype) and the __metadata__ of a safetensors file."""
    assert sys.byteorder == "little", "safetensors data is little-endian"
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 8:
        raise ValueError(f"{path}: not a safetensors file ({len(data)} bytes)")
    (n,) = struct.unpack("<Q", data[:8])
    if 8 + n > len(data):
        raise ValueError(f"{path}: header length {n} runs past the end of the file (truncated?)")
    header = json.loads(data[8:8 + n])
    metadata = header.pop("__metadata__", {}) or {}
    base, tensors = 8 + n, {}
    for name, e in header.items():
        begin, end = e["data_offsets"]
        if base + end > len(data):
            raise ValueError(f"{path}: tensor {name} runs past the end of the file (truncated?)")
        dtype = _DTYPES[e["dtype"]]
        if end > begin:
            t = torch.frombuffer(bytearray(data[base + begin:base + end]), dtype=dtype)
        else:
            t = torch.empty(0, dtype=dtype)
        tensors[name] = t.reshape(e["shape"])
    return tensors, metadata


def save_safetensors(path: str, tensors: Dict[str, torch.Tensor], metadata: Optional[Dict[str, str]] = None) -> None:
    """Writes a safetensors file atomically (temporary file, fsync, rename)."""
    assert sys.byteorder == "little", "safetensors data is little-endian"
    header, blobs, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    for name, t in tensors.items():
        t = t.detach().cpu().contiguous()
        blob = t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() > 0 else b""
        header[name] = {"dtype": _NAMES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    raw = json.dumps(header, separators=(",", ":")).encode("utf-8")
    raw += b" " * ((8 - len(raw) % 8) % 8)
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(raw)))
        f.write(raw)
        for blob in blobs:
            f.write(blob)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


# ------------------------------------------------------------------------------------------------------------------ CLI

@torch.no_grad()
def randomize_(model: StagFormer, seed: int) -> None:
    """Every parameter random (norm weights near 1), as the workbench's tests do, so nothing matches by accident."""
    g = torch.Generator().manual_seed(seed)
    for name, p in model.named_parameters():
        noise = torch.randn(p.shape, generator=g)
        p.copy_(1.0 + noise * 0.2 if name.endswith("norm.weight") else noise * 0.3)


def _logits(args) -> None:
    tokens = load_safetensors(args.tokens)[0]["tokens"].long()
    if len(args.pairs) % 2:
        raise SystemExit("logits: give MODEL OUT pairs")
    for model_path, out in zip(args.pairs[::2], args.pairs[1::2]):
        model = StagFormer.from_safetensors(model_path).eval()
        with torch.no_grad():
            save_safetensors(out, {"logits": model(tokens).float().contiguous()})


def _init(args) -> None:
    with open(args.config) as f:
        config = StagFormerConfig.from_json(f.read(), args.config)
    torch.manual_seed(args.seed)
    model = StagFormer(config).eval()
    if args.randomize:
        randomize_(model, args.seed + 1)
    model.save_safetensors(args.out)
    if args.pt:
        torch.save(model.state_dict(), args.pt)
    if args.tokens:
        tokens = load_safetensors(args.tokens)[0]["tokens"].long()
        with torch.no_grad():
            save_safetensors(args.logits, {"logits": model(tokens).float().contiguous()})


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("logits", help="logits of workbench safetensors models on the tokens in TOKENS['tokens']")
    p.add_argument("tokens")
    p.add_argument("pairs", nargs="+", metavar="MODEL OUT")
    p.set_defaults(run=_logits)
    p = sub.add_parser("init", help="a freshly initialised model (config JSON) saved as safetensors for the workbench")
    p.add_argument("config")
    p.add_argument("out")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--randomize", action="store_true", help="every parameter random (for tests)")
    p.add_argument("--pt", help="also torch.save the state dict here")
    p.add_argument("--tokens", help="with --logits: also write this model's logits on TOKENS['tokens']")
    p.add_argument("--logits")
    p.set_defaults(run=_init)
    args = parser.parse_args(argv)
    args.run(args)


if __name__ == "__main__":
    main()
