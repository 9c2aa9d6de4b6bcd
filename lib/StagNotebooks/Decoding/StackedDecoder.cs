using StagNotebooks.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace StagNotebooks.Decoding;

/// <summary>
/// The p stacks of a decode step as one batched computation, on one thread: the parallel path that also works on a
/// single CUDA stream. The stacks' weights are stacked into (p, out, in) tensors (<see cref="StackedWeights"/>);
/// the residual streams of all stacks are one (p, B, d) tensor, so each projection of a step is one bmm over the p
/// stacks' rows, self-attention one SDPA over p·B rows (every pass's self KV is already one folded tensor per layer
/// in <see cref="StagCache"/>), and every RMSNorm and RoPE one call for all stacks. Stack 1 has no
/// cross-attention: its rows are left out of the cross sublayer by a view (no FLOPs or bytes are spent on them), so
/// the cross sublayer runs over the (p−1)·B rows of stacks 2..p. After the step, stacks 1..p−1's outputs become the
/// memory of stacks 2..p in one projection. Shared weights are the special case where the p slices are one tensor
/// (one matmul over p·B rows, the weight read once). Prefill is the teacher-forced pass, stacks in sequence.
/// RoPE is a (D × D) matrix per position, precomputed for the session's capacity: one matmul instead of four calls.
/// Activation capture (probing) is not recorded by this engine.
/// </summary>
public sealed class StackedDecoder : IDecodingEngine, IDisposable
{
    public StagFormerModel Model { get; }
    public string Name => "stacked";
    readonly StackedWeights _weights;

    public StackedDecoder(StagFormerModel model)
    {
        var c = model.Config;
        if (c.Stacks > 1 && c.CrossLag == 0)
            throw new ArgumentException("the stacked engine needs staggered cross-attention (CrossLag = 1): with CrossLag = 0 stack s waits for stack s−1 at the same position");
        if (model.training && c.Dropout > 0) throw new InvalidOperationException("the stacked engine applies no dropout: call model.eval() first");
        Model = model;
        _weights = new StackedWeights(model);
    }

    /// <summary>The stacked weights (a copy of the model's separate weights; shared ones alias the model's).</summary>
    public StackedWeights Weights => _weights;

    public IDecodeSession Start(long batch, int? capacity = null) => new Session(this, batch, capacity);

    public void Dispose() => _weights.Dispose();

    sealed class Session : IDecodeSession
    {
        readonly StagFormerModel _model;
        readonly StackedWeights _w;
        readonly StagCache _cache;
        readonly long _batch;
        readonly int _p, _heads, _headDim, _ffn;
        readonly long _d;
        readonly double _eps;
        readonly bool _gated, _nullSlot;
        readonly Tensor? _ropeMatrices;          // (capacity, D, D): x·M[t] rotates x to position t
        readonly Tensor?[] _ropeRows;
        readonly Tensor? _mix;                   // (p, 1, 1) view of the learned combination
        IReadOnlyList<KVCache>? _self, _cross;   // all passes folded: self (p·B rows), cross ((p−1)·B rows); made at the first step

        public Session(StackedDecoder engine, long batch, int? capacity)
        {
            _model = engine.Model; _w = engine._weights;
            var c = _model.Config;
            _batch = batch; _p = c.Stacks; _heads = c.Heads; _headDim = c.HeadDim; _d = c.DModel; _ffn = c.FfnHidden;
            _eps = c.NormEps * Math.Sqrt(c.DModel);
            _gated = c.Ffn == FfnKind.GeGLU;
            _nullSlot = c.EmptyCross == EmptyCrossAttention.NullSlot;
            _cache = _model.NewCache(batch, capacity);
            _ropeRows = new Tensor?[_cache.Capacity];
            using var ng = torch.no_grad();
            using var scope = torch.NewDisposeScope();
            if (_model.rope is { } rope)
            {
                // Row i of M[t] is e_i rotated to position t; rotation is linear, so rope(x, t) = x·M[t].
                var eye = torch.eye(_headDim, dtype: _model.WeightDtype, device: _model.WeightDevice);          // (D, D)
                var rotated = rope.Apply(eye.unsqueeze(1).expand(_headDim, _cache.Capacity, _headDim), 0);       // (D, C, D)
                _ropeMatrices = rotated.permute(1, 0, 2).contiguous().DetachFromDisposeScope();                  // (C, D, D)
            }
            _mix = _model.stack_mix?.detach().view(_p, 1, 1).DetachFromDisposeScope();
        }

        public int Position => _self?[0].Length ?? _cache.Position;

        public Tensor Prefill(Tensor tokens)
        {
            if (_self != null) throw new InvalidOperationException("prefill after decoding steps is not supported by the stacked engine");
            using var ng = torch.no_grad();
            return _model.forward(new ModelInput(tokens, Position, _cache)).Logits;
        }

        Tensor Norm(Tensor x) => nn.functional.normalize(x, p: 2, dim: -1, eps: _eps);   // the norm's weight and √d are in the next projection

        Tensor Rope(Tensor x, int pos) =>
            _ropeMatrices is null ? x : x.matmul(_ropeRows[pos] ??= _ropeMatrices[pos].DetachFromDisposeScope());

        public Tensor Step(Tensor tokens)
        {
            using var ng = torch.no_grad();
            using var scope = torch.NewDisposeScope();
            _self ??= _cache.AllPassesSelf();
            if (_p > 1) _cross ??= _cache.AllPassesCross();
            int pos = Position;
            if (pos >= _cache.Capacity) throw new InvalidOperationException($"KV cache full: position {pos} reaches the capacity {_cache.Capacity}");
            long b = _batch, rows = _p * b, h = _heads, hd = _headDim;
            var e = _model.Embed(tokens, pos).view(1, b, _d);                         // (1, B, d)
            var x = e.expand(_p, b, _d);                                               // (p, B, d): every stack reads E
            for (int l = 0; l < _w.Layers.Count; l++)
            {
                var w = _w.Layers[l];
                // Self-attention, all stacks: one projection, one RoPE, one SDPA over p·B rows.
                var qkv = w.Qkv.Forward(Norm(x)).view(rows, 3 * h, 1, hd);             // (p·B, 3H, 1, D)
                var qk = Rope(qkv.narrow(1, 0, 2 * h), pos);                           // (p·B, 2H, 1, D)
                var self = _self[l];
                self.Append(qk.narrow(1, h, h), qkv.narrow(1, 2 * h, h));
                var (k, v) = self.Contents();                                          // (p·B, H, pos+1, D)
                var y = nn.functional.scaled_dot_product_attention(qk.narrow(1, 0, h), k, v);
                x = w.AttnOut.ForwardAdd(x, y.view(_p, b, _d));                        // (p, B, d), a fresh tensor
                // Cross-attention, stacks 2..p: stack 1's rows are outside the view (its no-op costs nothing).
                if (_p > 1)
                {
                    var cross = _cross![l];
                    if (cross.Length != pos) throw new InvalidOperationException($"stacked step at position {pos} needs memory up to {pos - 1}, the cross cache holds {cross.Length} positions");
                    if (_nullSlot || cross.Count > 0)                                  // zero-empty mode: no memory yet ⇒ output 0
                    {
                        var upper = x.narrow(0, 1, _p - 1);                            // (p−1, B, d), a view of x
                        var q = Rope(w.CrossQ!.Forward(Norm(upper)).view((_p - 1) * b, h, 1, hd), pos);
                        var (ck, cv) = _nullSlot ? cross.ContentsWithReserved() : cross.Contents();
                        var yc = nn.functional.scaled_dot_product_attention(q, ck, cv);
                        w.CrossOut!.AddInPlace(upper, yc.view(_p - 1, b, _d));         // x[1..p) += cross-attention
                    }
                }
                // FFN, all stacks.
                var gu = w.GateUp.Forward(Norm(x));                                    // (p, B, 2F) or (p, B, F)
                var hidden = _gated ? nn.functional.gelu(gu.narrow(-1, 0, _ffn)) * gu.narrow(-1, _ffn, _ffn) : nn.functional.gelu(gu);
                x = w.Down.ForwardAdd(x, hidden);
            }
            var final = _mix is null ? x[_p - 1] : (x * _mix).sum(dim: 0);            // (B, d)
            var logits = _model.Head(final);                                            // (B, V)
            if (_p > 1) AppendMemory(x.narrow(0, 0, _p - 1), pos);
            return logits.MoveToOuterDisposeScope();
        }

        /// <summary>Stacks 1..p−1's outputs at pos → the cross K/V of every layer of stacks 2..p, in one projection.</summary>
        void AppendMemory(Tensor lower, int pos)
        {
            long b = _batch, n = (_p - 1) * b, h = _heads, hd = _headDim;
            int layers = _w.Layers.Count;
            var kv = _w.MemoryKv!.Forward(Norm(lower)).view(n, layers, 2, h, 1, hd);   // ((p−1)·B, h, 2, H, 1, D)
            var k = Rope(kv.select(2, 0), pos);                                         // all layers' keys at once
            var v = kv.select(2, 1);
            for (int l = 0; l < layers; l++) _cross![l].Append(k.select(1, l), v.select(1, l));
        }

        public void Dispose()
        {
            foreach (var r in _ropeRows) r?.Dispose();
            _ropeMatrices?.Dispose();
            _mix?.Dispose();
            _cache.Dispose();
        }
    }
}
