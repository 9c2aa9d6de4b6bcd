"""Trains the workbench's model (stagformer.py) the way the C# trainer does, on one process or many (torchrun).

Same optimisation as lib/StagNotebooks/Training/Trainer.cs, read from the same TrainConfig JSON (`stag train
--print-config`, or a run's config.json): AdamW (betas Beta1/Beta2, eps 1e-8) with one parameter group per (weight
decay, learning-rate scale) -- decay on matrices (dim >= 2) but not on the cross-attention null slots unless
DecayNullSlots; CrossAttentionLrScale for every stacks.*.cross_layers.* tensor, EmbeddingLrScale for tok_/pos_embeddings
-- linear warmup then cosine or warmup-stable-decay, global gradient-norm clipping, gradient accumulation, validation
every EvalEvery steps on the same windows. Batches come from the workbench's packed token files (packed.py): global
batch i of a seed is the C# trainer's batch i, and each of N ranks trains on its B/N rows of it, so N processes
compute the same steps as one.

    # one process
    python3 train.py --config config.json --data data/packed/brown-bpe --out runs-torch/my-run
    # N processes on this machine (CPU: gloo; GPUs: nccl, one GPU per process)
    torchrun --nnodes=1 --nproc_per_node=N --master_addr=127.0.0.1 --master_port=29500 \
        train.py --config config.json --data data/packed/brown-bpe --out runs-torch/my-run [--backend nccl]

The output folder holds config.json (the TrainConfig), metrics.jsonl (one JSON line per step: loss, lr, grad norm,
validation loss), checkpoints/step-N/ (model.safetensors: the weights with the model config in __metadata__, as
`stag import` reads them; state.pt: optimizer, step, random state), checkpoints/last and best (pointer files), and
model.safetensors / best.safetensors (hard links to the latest and best checkpoint's weights). Every file is written
atomically and flushed to disk. Run the same command again after a crash or a kill: it resumes from the last
checkpoint (falling back to the one before when the newest does not read) with the same losses as an uninterrupted
run. --fsdp shards the model with FullyShardedDataParallel (CUDA only on PyTorch 1.13; see README.md).
"""
from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import math
import os
import shutil
import sys
import time
from typing import Dict, List, Optional, Tuple

import torch
import torch.distributed as dist
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from packed import PackedDataset, RandomWindowBatches, sequential_windows  # noqa: E402
from stagformer import StagFormer, StagFormerConfig, load_safetensors, save_safetensors  # noqa: E402


class TrainError(Exception):
    """A problem with the input (config, data, output folder, checkpoint): the message names the file and field."""


# ------------------------------------------------------------------------------------------------------------- config

@dataclasses.dataclass
class TrainConfig:
    """Field for field the workbench's TrainConfig (lib/StagNotebooks/Training/TrainConfig.cs)."""
    Preset: str = "custom"
    Model: StagFormerConfig = dataclasses.field(default_factory=StagFormerConfig)
    BatchSize: int = 16
    ContextLength: int = 128
    GradAccumulation: int = 1
    LearningRate: float = 3e-3
    MinLearningRate: float = 3e-4
    WarmupSteps: int = 20
    Schedule: str = "Cosine"             # Cosine | WarmupStableDecay
    DecayFraction: float = 0.2
    WeightDecay: float = 0.1
    DecayNullSlots: bool = False
    CrossAttentionLrScale: Optional[float] = None
    EmbeddingLrScale: Optional[float] = None
    Beta1: float = 0.9
    Beta2: float = 0.95
    GradClip: float = 1.0
    MaxSteps: int = 300
    TokenBudget: Optional[int] = None
    TimeBudgetSeconds: Optional[float] = None
    EvalEvery: int = 50
    EvalBatches: int = 8
    CheckpointEvery: int = 100
    Seed: int = 1

    @property
    def tokens_per_step(self) -> int:
        return self.BatchSize * self.ContextLength * self.GradAccumulation

    @property
    def total_steps(self) -> int:
        if self.TokenBudget is not None:
            return min(self.MaxSteps, max(1, self.TokenBudget // self.tokens_per_step))
        return self.MaxSteps

    @classmethod
    def from_json(cls, text: str, source: str) -> "TrainConfig":
        try:
            d = json.loads(text)
        except json.JSONDecodeError as e:
            raise TrainError(f"{source}: not valid JSON ({e})") from None
        if not isinstance(d, dict):
            raise TrainError(f"{source}: not a JSON object")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise TrainError(f"{source}: config field(s) {unknown} unknown to train.py (a newer workbench's option this "
                             f"script does not implement yet; it knows {sorted(known)})")
        model = d.pop("Model", None)
        try:
            m = StagFormerConfig.from_json(json.dumps(model if model is not None else {}), f"{source} (Model)")
        except ValueError as e:
            raise TrainError(str(e).replace("config field ", f"{source}: config field Model.")) from None
        except TypeError as e:
            raise TrainError(f"{source}: Model: {e}") from None
        c = cls(Model=m, **d)
        c.validate(source)
        return c

    def to_json(self) -> str:
        d = dataclasses.asdict(self)
        return json.dumps(d, indent=2)

    def validate(self, source: str = "config") -> None:
        def need(ok, field, why):
            if not ok:
                raise TrainError(f"{source}: config field {field}: {why}")

        def number(field, kinds=(int, float), optional=False):
            v = getattr(self, field)
            need((optional and v is None) or (isinstance(v, kinds) and not isinstance(v, bool)), field,
                 f"{v!r} is not a{'n integer' if kinds is int else ' number'}")
        for f in ("BatchSize", "ContextLength", "GradAccumulation", "WarmupSteps", "MaxSteps", "EvalEvery", "EvalBatches", "CheckpointEvery", "Seed"):
            number(f, int)
        for f in ("LearningRate", "MinLearningRate", "DecayFraction", "WeightDecay", "Beta1", "Beta2", "GradClip"):
            number(f)
        number("CrossAttentionLrScale", optional=True)
        number("EmbeddingLrScale", optional=True)
        number("TokenBudget", int, optional=True)
        number("TimeBudgetSeconds", optional=True)
        need(isinstance(self.DecayNullSlots, bool), "DecayNullSlots", repr(self.DecayNullSlots))
        need(self.BatchSize >= 1, "BatchSize", f"must be at least 1 (got {self.BatchSize})")
        need(self.ContextLength >= 2, "ContextLength", f"must be at least 2 (got {self.ContextLength})")
        need(self.ContextLength <= self.Model.MaxContext, "ContextLength", f"{self.ContextLength} exceeds Model.MaxContext {self.Model.MaxContext}")
        need(self.GradAccumulation >= 1, "GradAccumulation", f"must be at least 1 (got {self.GradAccumulation})")
        need(self.LearningRate > 0, "LearningRate", f"must be positive (got {self.LearningRate})")
        need(0 <= self.MinLearningRate <= self.LearningRate, "MinLearningRate", f"must be in [0, LearningRate] (got {self.MinLearningRate})")
        need(self.WarmupSteps >= 0, "WarmupSteps", f"must not be negative (got {self.WarmupSteps})")
        need(self.Schedule in ("Cosine", "WarmupStableDecay"), "Schedule", f"'{self.Schedule}' is not one of Cosine, WarmupStableDecay")
        need(0 < self.DecayFraction <= 1, "DecayFraction", f"must be in (0, 1] (got {self.DecayFraction})")
        need(self.WeightDecay >= 0, "WeightDecay", f"must not be negative (got {self.WeightDecay})")
        need(self.CrossAttentionLrScale is None or self.CrossAttentionLrScale > 0, "CrossAttentionLrScale", f"must be positive, or null for 1 (got {self.CrossAttentionLrScale})")
        need(self.EmbeddingLrScale is None or self.EmbeddingLrScale > 0, "EmbeddingLrScale", f"must be positive, or null for 1 (got {self.EmbeddingLrScale})")
        need(0 <= self.Beta1 < 1, "Beta1", f"must be in [0, 1) (got {self.Beta1})")
        need(0 <= self.Beta2 < 1, "Beta2", f"must be in [0, 1) (got {self.Beta2})")
        need(self.GradClip >= 0, "GradClip", f"must not be negative (got {self.GradClip})")
        need(self.MaxSteps >= 1, "MaxSteps", f"must be at least 1 (got {self.MaxSteps})")
        need(self.TokenBudget is None or self.TokenBudget > 0, "TokenBudget", f"must be positive (got {self.TokenBudget})")
        need(self.TimeBudgetSeconds is None or self.TimeBudgetSeconds > 0, "TimeBudgetSeconds", f"must be positive (got {self.TimeBudgetSeconds})")
        need(self.EvalEvery >= 1, "EvalEvery", f"must be at least 1 (got {self.EvalEvery})")
        need(self.EvalBatches >= 1, "EvalBatches", f"must be at least 1 (got {self.EvalBatches})")
        need(self.CheckpointEvery >= 1, "CheckpointEvery", f"must be at least 1 (got {self.CheckpointEvery})")


def lr_at(c: TrainConfig, step: int) -> float:
    """LearningRateSchedule.At: linear warmup, then cosine to MinLearningRate or warmup-stable-decay."""
    total = c.total_steps
    if c.WarmupSteps > 0 and step < c.WarmupSteps:
        return c.LearningRate * (step + 1) / c.WarmupSteps
    if c.Schedule == "Cosine":
        progress = min(1.0, max(0.0, (step - c.WarmupSteps) / max(1, total - c.WarmupSteps)))
        return c.MinLearningRate + 0.5 * (c.LearningRate - c.MinLearningRate) * (1 + math.cos(math.pi * progress))
    decay_steps = max(1, int(_round_half_even(c.DecayFraction * total)))
    decay_start = total - decay_steps
    if step < decay_start:
        return c.LearningRate
    f = min(1.0, max(0.0, (step - decay_start) / decay_steps))
    return c.LearningRate + (c.MinLearningRate - c.LearningRate) * f


def _round_half_even(x: float) -> float:
    return float(round(x))   # Python's round is banker's rounding, as C#'s Math.Round


def decays(name: str, p: torch.Tensor, c: TrainConfig) -> bool:
    """Trainer.Decays: matrices (dim >= 2), except the cross-attention null slots unless DecayNullSlots."""
    return p.dim() >= 2 and (c.DecayNullSlots or not name.split(".")[-1].startswith("null_"))


def lr_scale(name: str, c: TrainConfig) -> float:
    """Trainer.LrScale: CrossAttentionLrScale for cross-attention, EmbeddingLrScale for the embeddings, else 1."""
    if ".cross_layers." in name:
        return 1.0 if c.CrossAttentionLrScale is None else float(c.CrossAttentionLrScale)
    if name.startswith("tok_embeddings.") or name.startswith("pos_embeddings."):
        return 1.0 if c.EmbeddingLrScale is None else float(c.EmbeddingLrScale)
    return 1.0


def make_optimizer(named: List[Tuple[str, torch.nn.Parameter]], c: TrainConfig) -> Tuple[torch.optim.AdamW, List[float]]:
    """AdamW with one group per (decay, scale), decayed groups first, then by scale -- the C# trainer's groups and order."""
    keys: Dict[Tuple[bool, float], List[torch.nn.Parameter]] = {}
    for name, p in named:
        keys.setdefault((decays(name, p, c), lr_scale(name, c)), []).append(p)
    order = sorted(keys, key=lambda k: (not k[0], k[1]))
    groups = [{"params": keys[k], "lr": c.LearningRate * k[1], "weight_decay": c.WeightDecay if k[0] else 0.0} for k in order]
    opt = torch.optim.AdamW(groups, lr=c.LearningRate, betas=(c.Beta1, c.Beta2), eps=1e-8, weight_decay=c.WeightDecay)
    return opt, [k[1] for k in order]


# -------------------------------------------------------------------------------------------------------- durable files

def _fsync_dir(folder: str) -> None:
    if os.name == "nt":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_text_atomic(path: str, text: str) -> None:
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    _fsync_dir(os.path.dirname(os.path.abspath(path)))


def link_atomic(target: str, path: str) -> None:
    """path becomes another name of target (a hard link; a copy where links are not supported), atomically."""
    tmp = f"{path}.tmp-{os.getpid()}"
    if os.path.exists(tmp):
        os.remove(tmp)
    try:
        os.link(target, tmp)
    except OSError:
        shutil.copyfile(target, tmp)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
    os.replace(tmp, path)
    _fsync_dir(os.path.dirname(os.path.abspath(path)))


class Checkpoints:
    """out/checkpoints/step-N/{model.safetensors, state.pt}; the pointer files last and best name a folder. A folder is
    written under a temporary name, flushed, renamed into place, then the pointer moves: a kill at any moment leaves
    the previous checkpoint intact. The newest two (and the best) are kept."""

    MODEL, STATE = "model.safetensors", "state.pt"

    def __init__(self, out: str):
        self.out = out
        self.folder = os.path.join(out, "checkpoints")

    def pointer(self, name: str) -> Optional[str]:
        path = os.path.join(self.folder, name)
        if not os.path.isfile(path):
            return None
        with open(path, encoding="utf-8") as f:
            return f.read().strip() or None

    def candidates(self) -> List[str]:
        """Folders to resume from, newest first: the one `last` names, then every other step-N by step."""
        if not os.path.isdir(self.folder):
            return []
        steps = sorted((d for d in os.listdir(self.folder) if d.startswith("step-") and d[5:].isdigit()),
                       key=lambda d: -int(d[5:]))
        last = self.pointer("last")
        return ([last] if last else []) + [d for d in steps if d != last]

    def save(self, step: int, model_state: Dict[str, torch.Tensor], model_config: StagFormerConfig, state: dict, best: bool) -> str:
        os.makedirs(self.folder, exist_ok=True)
        name = f"step-{step}"
        final = os.path.join(self.folder, name)
        tmp = os.path.join(self.folder, f".{name}.tmp-{os.getpid()}")
        shutil.rmtree(tmp, ignore_errors=True)
        os.makedirs(tmp)
        save_safetensors(os.path.join(tmp, self.MODEL), model_state, {"format": "pt", "config": model_config.to_json()})
        with open(os.path.join(tmp, self.STATE), "wb") as f:
            torch.save(state, f)
            f.flush()
            os.fsync(f.fileno())
        _fsync_dir(tmp)
        if os.path.exists(final):
            shutil.rmtree(final)   # a folder of the same step from a run that was killed before its pointer moved
        os.rename(tmp, final)
        _fsync_dir(self.folder)
        write_text_atomic(os.path.join(self.folder, "last"), name + "\n")
        link_atomic(os.path.join(final, self.MODEL), os.path.join(self.out, "model.safetensors"))
        if best:
            write_text_atomic(os.path.join(self.folder, "best"), name + "\n")
            link_atomic(os.path.join(final, self.MODEL), os.path.join(self.out, "best.safetensors"))
        self.prune()
        return final

    def prune(self) -> None:
        keep = {self.pointer("last"), self.pointer("best")}
        steps = sorted((d for d in os.listdir(self.folder) if d.startswith("step-") and d[5:].isdigit()), key=lambda d: -int(d[5:]))
        keep.update(steps[:2])
        for d in os.listdir(self.folder):
            if d.startswith(".step-") and ".tmp-" in d and not d.endswith(f".tmp-{os.getpid()}"):
                shutil.rmtree(os.path.join(self.folder, d), ignore_errors=True)   # left by a killed writer
            elif d.startswith("step-") and d not in keep:
                shutil.rmtree(os.path.join(self.folder, d), ignore_errors=True)

    def load(self, name: str, model_config: StagFormerConfig) -> Tuple[Dict[str, torch.Tensor], dict]:
        folder = os.path.join(self.folder, name)
        model_path, state_path = os.path.join(folder, self.MODEL), os.path.join(folder, self.STATE)
        for p in (model_path, state_path):
            if not os.path.isfile(p):
                raise TrainError(f"{p}: missing")
        try:
            tensors, meta = load_safetensors(model_path)
        except Exception as e:   # noqa: BLE001 -- any damage is reported by file
            raise TrainError(f"{model_path}: unreadable ({type(e).__name__}: {e})") from None
        if "config" in meta and StagFormerConfig.from_json(meta["config"], model_path) != model_config:
            raise TrainError(f"{model_path}: the checkpoint's model config differs from the run's")
        try:
            state = torch.load(state_path, map_location="cpu")
        except Exception as e:   # noqa: BLE001
            raise TrainError(f"{state_path}: unreadable ({type(e).__name__}: {e})") from None
        return tensors, state


class Metrics:
    """out/metrics.jsonl: one line per step (rank 0 writes); cut back to the resumed step on resume."""

    def __init__(self, out: str):
        self.path = os.path.join(out, "metrics.jsonl")

    def read(self) -> List[dict]:
        if not os.path.isfile(self.path):
            return []
        rows = []
        with open(self.path, encoding="utf-8") as f:
            for line in f:
                line = line.strip()
                if not line:
                    continue
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError:
                    break   # a line torn by a kill: it and anything after it are redone
        return rows

    def truncate_after(self, step: int) -> None:
        rows = [r for r in self.read() if r["step"] <= step]
        write_text_atomic(self.path, "".join(json.dumps(r) + "\n" for r in rows))

    def append(self, row: dict) -> None:
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(json.dumps(row) + "\n")
            f.flush()


# ----------------------------------------------------------------------------------------------------------- training

def log(rank: int, text: str) -> None:
    if rank == 0:
        print(text, flush=True)


def setup_distributed(backend: Optional[str], device_kind: str) -> Tuple[int, int, int, torch.device]:
    """(rank, world size, local rank, device). Under torchrun (WORLD_SIZE set) the process group is initialised."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank, local = int(os.environ.get("RANK", "0")), int(os.environ.get("LOCAL_RANK", "0"))
    if device_kind == "auto":
        device_kind = "cuda" if torch.cuda.is_available() else "cpu"
    if device_kind == "cuda":
        if not torch.cuda.is_available():
            raise TrainError("--device cuda: this PyTorch sees no CUDA device")
        torch.cuda.set_device(local)
        device = torch.device("cuda", local)
    else:
        device = torch.device("cpu")
    if world > 1 or "TORCHELASTIC_RUN_ID" in os.environ:
        backend = backend or ("nccl" if device.type == "cuda" else "gloo")
        if backend == "nccl" and device.type != "cuda":
            raise TrainError("--backend nccl needs --device cuda (use gloo on the CPU)")
        dist.init_process_group(backend, timeout=datetime.timedelta(seconds=int(os.environ.get("STAG_DIST_TIMEOUT", "600"))))
    return rank, world, local, device


def all_sum(values: List[float], device: torch.device) -> List[float]:
    if not dist.is_initialized():
        return values
    t = torch.tensor(values, dtype=torch.float64, device=device)
    dist.all_reduce(t)
    return t.tolist()


def evaluate(model, raw: StagFormer, val, c: TrainConfig, rank: int, world: int, device: torch.device, fsdp: bool) -> float:
    """Trainer.Evaluate: mean next-token loss over the first EvalBatches validation batches (each rank takes every
    world-th batch under DDP; under FSDP every rank runs every batch, since the shards must all take part)."""
    runner = model if fsdp else raw
    runner.eval()
    nll, count = 0.0, 0
    with torch.no_grad():
        for j, (x, y) in enumerate(sequential_windows(val, c.BatchSize, c.ContextLength, c.EvalBatches)):
            if not fsdp and j % world != rank:
                continue
            logits = runner(x.to(device))
            nll += float(F.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(), y.to(device).reshape(-1), reduction="sum"))
            count += y.numel()
    if not fsdp:
        nll, count = all_sum([nll, float(count)], device)
    return nll / max(1.0, count)


def full_state_dict(model, raw: StagFormer, fsdp: bool) -> Dict[str, torch.Tensor]:
    if not fsdp:
        return {k: v.detach().cpu() for k, v in raw.state_dict().items()}
    from torch.distributed.fsdp import FullyShardedDataParallel as FSDP, StateDictType, FullStateDictConfig
    with FSDP.state_dict_type(model, StateDictType.FULL_STATE_DICT, FullStateDictConfig(offload_to_cpu=True, rank0_only=True)):
        return model.state_dict()


def optimizer_state(model, opt, fsdp: bool) -> dict:
    if not fsdp:
        return opt.state_dict()
    from torch.distributed.fsdp import FullyShardedDataParallel as FSDP
    return FSDP.full_optim_state_dict(model, opt, rank0_only=True)


def load_optimizer_state(model, opt, state: dict, fsdp: bool) -> None:
    if fsdp:
        from torch.distributed.fsdp import FullyShardedDataParallel as FSDP
        state = FSDP.shard_full_optim_state_dict(state, model)
    opt.load_state_dict(state)


def wrap_fsdp(model: StagFormer, device: torch.device, c: TrainConfig):
    """FullyShardedDataParallel with one unit per TransformerBlock and CrossAttentionBlock (embeddings stay in the root).
    The C# trainer's parameter groups (no decay on norms and null slots, learning-rate scales) need FSDP's
    use_orig_params (PyTorch >= 2.0); without it (1.13) FSDP flattens each unit's parameters into one tensor, so only a
    configuration with a single group (WeightDecay 0, no scales) can keep the same optimisation."""
    if device.type != "cuda":
        raise TrainError("--fsdp: FullyShardedDataParallel needs CUDA here (PyTorch 1.13 refuses CPU-only training); "
                         "on the CPU train with the default DistributedDataParallel")
    if not dist.is_initialized():
        raise TrainError("--fsdp: launch with torchrun (FSDP shards over a process group)")
    import functools
    import inspect
    from torch.distributed.fsdp import FullyShardedDataParallel as FSDP
    from torch.distributed.fsdp.wrap import transformer_auto_wrap_policy
    from stagformer import TransformerBlock, CrossAttentionBlock
    policy = functools.partial(transformer_auto_wrap_policy, transformer_layer_cls={TransformerBlock, CrossAttentionBlock})
    if "use_orig_params" in inspect.signature(FSDP.__init__).parameters:
        return FSDP(model, auto_wrap_policy=policy, device_id=device, use_orig_params=True)
    groups = {(decays(n, p, c), lr_scale(n, c)) for n, p in model.named_parameters()}
    if len(groups) > 1:
        raise TrainError(f"--fsdp: PyTorch {torch.__version__}'s FSDP has no use_orig_params, so it cannot keep the trainer's "
                         f"{len(groups)} parameter groups; set config fields WeightDecay=0 (and no CrossAttentionLrScale/"
                         "EmbeddingLrScale), or use PyTorch >= 2.0")
    return FSDP(model, auto_wrap_policy=policy, device_id=device)


def gather_rng(device: torch.device) -> List[dict]:
    """Every rank's random state (CPU, and CUDA where used), as a list indexed by rank."""
    mine = {"cpu": torch.get_rng_state(), "cuda": torch.cuda.get_rng_state(device) if device.type == "cuda" else None}
    if not dist.is_initialized():
        return [mine]
    states: List[Optional[dict]] = [None] * dist.get_world_size()
    dist.all_gather_object(states, mine)
    return states


def train(args) -> int:
    rank, world, local, device = setup_distributed(args.backend, args.device)
    try:
        return _train(args, rank, world, device)
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()


def _train(args, rank: int, world: int, device: torch.device) -> int:
    if not os.path.isfile(args.config):
        raise TrainError(f"--config {args.config}: no such file")
    with open(args.config, encoding="utf-8") as f:
        c = TrainConfig.from_json(f.read(), args.config)
    data = PackedDataset(args.data)
    if c.Model.VocabSize == 0:
        c = dataclasses.replace(c, Model=dataclasses.replace(c.Model, VocabSize=data.vocab_size))
        log(rank, f"Model.VocabSize 0 = the data's: {data.vocab_size}")
    if c.Model.VocabSize < data.vocab_size:
        raise TrainError(f"{args.config}: config field Model.VocabSize: {c.Model.VocabSize} is smaller than the data's vocabulary "
                         f"({data.vocab_size}, {os.path.join(args.data, 'manifest.json')})")
    if args.max_steps is not None:
        c = dataclasses.replace(c, MaxSteps=args.max_steps)
    c.validate(args.config)
    if c.BatchSize % world != 0:
        raise TrainError(f"{args.config}: config field BatchSize: {c.BatchSize} rows do not split evenly over {world} processes "
                         "(each rank trains on BatchSize / world rows of every global batch)")
    train_file, val_file = data.split("train"), data.split("val")
    for f in (train_file, val_file):
        if f.count < c.ContextLength + 2:
            raise TrainError(f"{f.path}: {f.count} tokens cannot fill a window of {c.ContextLength + 1} (config field ContextLength)")

    out = args.out
    os.makedirs(out, exist_ok=True)
    config_path = os.path.join(out, "config.json")
    if rank == 0:
        if os.path.isfile(config_path):
            with open(config_path, encoding="utf-8") as f:
                old = TrainConfig.from_json(f.read(), config_path)
            if old != c:
                diff = [k for k in (f.name for f in dataclasses.fields(TrainConfig)) if getattr(old, k) != getattr(c, k)]
                if old.Model != c.Model:
                    diff += [f"Model.{f.name}" for f in dataclasses.fields(StagFormerConfig) if getattr(old.Model, f.name) != getattr(c.Model, f.name)]
                raise TrainError(f"{out} holds another run (its config.json differs in {', '.join(d for d in diff if d != 'Model')}): "
                                 "choose another --out, or delete the folder")
        else:
            write_text_atomic(config_path, c.to_json() + "\n")
    if dist.is_initialized():
        ok = torch.tensor([1 if os.path.isfile(config_path) else 0])
        dist.broadcast(ok, 0)   # every rank waits for rank 0's checks

    # The model: the init file, or PyTorch's initialisation from the seed (the same on every rank).
    torch.manual_seed(c.Seed & 0xFFFF_FFFF_FFFF_FFFF)
    model = StagFormer(c.Model)
    if args.init:
        tensors, meta = load_safetensors(args.init)
        if "config" in meta:
            init_config = StagFormerConfig.from_json(meta["config"], f"{args.init} (__metadata__.config)")
            if init_config != c.Model:
                diff = [f.name for f in dataclasses.fields(StagFormerConfig) if getattr(init_config, f.name) != getattr(c.Model, f.name)]
                raise TrainError(f"{args.init}: its model config differs from {args.config}'s in Model.{', Model.'.join(diff)}")
        try:
            model.load_checked(tensors, args.init)
        except ValueError as e:
            raise TrainError(str(e)) from None

    # Resume: the newest readable checkpoint's weights go into the model before it is wrapped.
    store, metrics = Checkpoints(out), Metrics(out)
    start, tokens, elapsed_before, best, best_step, resume_state = 0, 0, 0.0, None, None, None
    for name in store.candidates():
        try:
            tensors, state = store.load(name, c.Model)
        except TrainError as e:
            log(rank, f"checkpoint {name} failed to read: {e}; trying the previous one")
            continue
        if state.get("config") != json.loads(c.to_json()):
            raise TrainError(f"{os.path.join(store.folder, name, Checkpoints.STATE)}: written by another run's config")
        model.load_checked(tensors, os.path.join(store.folder, name, Checkpoints.MODEL))
        start, tokens, elapsed_before = state["step"], state["tokens"], state["elapsed"]
        best, best_step, resume_state = state.get("best_val_loss"), state.get("best_step"), state
        log(rank, f"resuming from step {start} ({os.path.join(store.folder, name)}; written by {state.get('world_size', 1)} process(es))")
        break
    else:
        if store.candidates():
            raise TrainError(f"no readable checkpoint in {store.folder}: move the folder away to train from step 0")

    model.to(device)
    fsdp = bool(args.fsdp)
    if fsdp:
        wrapped = wrap_fsdp(model, device, c)
        named = [(n.replace("_fsdp_wrapped_module.", ""), p) for n, p in wrapped.named_parameters()]
    elif dist.is_initialized():
        wrapped = torch.nn.parallel.DistributedDataParallel(
            model, device_ids=[device.index] if device.type == "cuda" else None, broadcast_buffers=False)
        named = list(model.named_parameters())
    else:
        wrapped, named = model, list(model.named_parameters())
    opt, scales = make_optimizer(named, c)
    params = [p for _, p in named]

    # Random state per rank (dropout): restored when the world size is the one that wrote the checkpoint.
    torch.manual_seed((c.Seed * 1_000_003 + rank) & 0xFFFF_FFFF_FFFF_FFFF)
    if resume_state is not None:
        load_optimizer_state(wrapped, opt, resume_state["optimizer"], fsdp)
        rng = resume_state.get("rng")
        if isinstance(rng, list) and len(rng) == world:
            torch.set_rng_state(rng[rank]["cpu"])
            if device.type == "cuda" and rng[rank].get("cuda") is not None:
                torch.cuda.set_rng_state(rng[rank]["cuda"], device)
        elif c.Model.Dropout > 0:
            log(rank, f"the checkpoint was written by {resume_state.get('world_size')} process(es): dropout masks continue from a fresh seed")
            torch.manual_seed((c.Seed * 1_000_003 + rank + 7919 * start) & 0xFFFF_FFFF_FFFF_FFFF)
    if rank == 0:
        metrics.truncate_after(start)

    total = c.total_steps
    batches = RandomWindowBatches(train_file, c.Seed)
    rows_per_rank = c.BatchSize // world
    rows = (rank * rows_per_rank, (rank + 1) * rows_per_rank)
    log(rank, f"training {total} steps from step {start} on {world} process(es) ({device.type}{', FSDP' if fsdp else ''}): "
              f"global batch {c.BatchSize} x {c.ContextLength} tokens x {c.GradAccumulation} micro-batch(es), {rows_per_rank} rows per process")
    test_sleep = float(os.environ.get("STAG_TRAIN_TEST_STEP_SLEEP", "0"))   # tests only: widen the window for a kill
    clock = time.monotonic()
    for step in range(start, total):
        if c.TimeBudgetSeconds is not None and elapsed_before + time.monotonic() - clock >= c.TimeBudgetSeconds:
            break
        step_clock = time.monotonic()
        lr = lr_at(c, step)
        wrapped.train()
        opt.zero_grad(set_to_none=True)
        local_loss = 0.0
        for micro in range(c.GradAccumulation):
            x, y = batches.batch(step * c.GradAccumulation + micro, c.BatchSize, c.ContextLength, rows)
            x, y = x.to(device), y.to(device)
            sync = micro == c.GradAccumulation - 1 or not hasattr(wrapped, "no_sync")
            ctx = wrapped.no_sync() if not sync else _null()
            with ctx:
                logits = wrapped(x)
                loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(), y.reshape(-1)) / c.GradAccumulation
                loss.backward()
            local_loss += float(loss)
        rank_losses = [0.0] * world
        rank_losses[rank] = local_loss
        rank_losses = all_sum(rank_losses, device)   # each rank's loss on its own rows
        step_loss = sum(rank_losses) / world
        if c.GradClip > 0:
            grad_norm = float(wrapped.clip_grad_norm_(c.GradClip) if fsdp else torch.nn.utils.clip_grad_norm_(params, c.GradClip))
        else:
            grad_norm = math.sqrt(sum(float(p.grad.pow(2).sum()) for p in params if p.grad is not None))
        if not math.isfinite(step_loss) or not math.isfinite(grad_norm):
            last = store.pointer("last")
            raise TrainError(f"step {step}: {'loss' if not math.isfinite(step_loss) else 'gradient norm'} is "
                             f"{step_loss if not math.isfinite(step_loss) else grad_norm}; "
                             + (f"the last good checkpoint is {os.path.join(store.folder, last)}" if last else "no checkpoint was written yet"))
        for g, scale in zip(opt.param_groups, scales):
            g["lr"] = lr * scale
        opt.step()
        if test_sleep > 0:
            time.sleep(test_sleep)
        tokens += c.tokens_per_step
        row = {"step": step + 1, "tokens": tokens, "loss": step_loss, "lr": lr, "grad_norm": grad_norm, "world": world, "rank_losses": rank_losses,
               "tokens_per_second": c.tokens_per_step / max(1e-9, time.monotonic() - step_clock),
               "elapsed": elapsed_before + time.monotonic() - clock}
        last_step = step + 1 == total
        improved = False
        if (step + 1) % c.EvalEvery == 0 or last_step:
            val_loss = evaluate(wrapped, model, val_file, c, rank, world, device, fsdp)
            row["val_loss"] = val_loss
            row["val_perplexity"] = math.exp(val_loss)
            row["val_bits_per_byte"] = val_loss / math.log(2) / data.bytes_per_token("val")
            if best is None or val_loss < best:
                best, best_step, improved = val_loss, step + 1, True
        if rank == 0:
            metrics.append(row)
        log(rank, f"step {step + 1}/{total} loss {step_loss:.6f} lr {lr:.3e} |g| {grad_norm:.3f}"
                  + (f" val {row['val_loss']:.6f}" if "val_loss" in row else ""))
        if (step + 1) % c.CheckpointEvery == 0 or last_step or improved:
            sd = full_state_dict(wrapped, model, fsdp)
            osd = optimizer_state(wrapped, opt, fsdp)
            rng = gather_rng(device)
            if rank == 0:
                state = {"step": step + 1, "tokens": tokens, "elapsed": row["elapsed"], "best_val_loss": best, "best_step": best_step,
                         "optimizer": osd, "rng": rng, "world_size": world, "config": json.loads(c.to_json())}
                path = store.save(step + 1, sd, c.Model, state, improved)
                log(rank, f"checkpoint {path}")
            if dist.is_initialized():
                dist.barrier()
    rows_done = metrics.read() if rank == 0 else []
    if rank == 0 and rows_done and rows_done[-1]["step"] == total:
        write_text_atomic(os.path.join(out, "done.json"), json.dumps(
            {"steps": total, "final_loss": rows_done[-1]["loss"], "best_val_loss": best, "best_step": best_step,
             "world_size": world, "device": str(device)}) + "\n")
        log(rank, f"done: {total} steps, final loss {rows_done[-1]['loss']:.6f}, best val loss {best:.6f}; "
                  f"weights: {os.path.join(out, 'model.safetensors')} (stag import it)")
    return 0


class _null:
    def __enter__(self):
        return self

    def __exit__(self, *a):
        return False


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", required=True, help="TrainConfig JSON (stag train --print-config > config.json, or a run's config.json)")
    parser.add_argument("--data", required=True, help="a packed dataset folder (manifest.json + train.bin/val.bin), e.g. data/packed/brown-bpe")
    parser.add_argument("--out", required=True, help="the run's folder (created; an existing one is resumed)")
    parser.add_argument("--init", help="start from these weights (a `stag export` safetensors file) instead of PyTorch's initialisation")
    parser.add_argument("--max-steps", type=int, help="override MaxSteps")
    parser.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    parser.add_argument("--backend", choices=["gloo", "nccl"], help="process-group backend (default: nccl on CUDA, gloo on the CPU)")
    parser.add_argument("--fsdp", action="store_true", help="shard parameters, gradients and optimizer state (FullyShardedDataParallel; CUDA)")
    parser.add_argument("--threads", type=int, help="torch.set_num_threads per process")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    try:
        return train(args)
    except (TrainError, ValueError, FileNotFoundError, KeyError) as e:   # bad input: the message names the file and field
        print(f"train.py: error: {e.args[0] if e.args else e}", file=sys.stderr, flush=True)
        return 2


if __name__ == "__main__":
    sys.exit(main())
