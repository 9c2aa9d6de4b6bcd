using StagNotebooks.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace StagNotebooks.Decoding;

/// <summary>
/// The staggered-parallel engine: in each step the p stacks run at the same time on their own threads, because
/// stack s at position t needs stack s−1 only at positions ≤ t−1, which the previous step produced. Each thread runs
/// its stack's layers through <see cref="TransformerBlock.Step"/> with that stack's weights, then projects its fresh
/// output into the cross-attention K/V of the stack above (balancing the work: the upper stack has the
/// cross-attention, the lower one the projection); the upper stack appends them at the start of the next step.
/// On CUDA the threads overlap kernel launches; TorchSharp 0.107 exposes no stream API to give each stack a stream
/// (see <see cref="StackedDecoder"/> for the path that batches the stacks instead). While a session is open its
/// caller thread runs with the per-stack intra-op thread count (set once, restored on dispose).
/// </summary>
public sealed class StaggeredParallelDecoder : IDecodingEngine
{
    public StagFormerModel Model { get; }
    /// <summary>libtorch intra-op threads per stack (default: the cores shared evenly between the p stacks).</summary>
    public int ThreadsPerStack { get; }
    /// <summary>When the caller thread's intra-op count is set (default: once per session).</summary>
    public CallerThreadSetting CallerThreads { get; }
    public string Name => CallerThreads == CallerThreadSetting.PerSession ? "parallel" : "parallel-perstep";
    readonly StackedWeights[] _weights;   // [s]: stack s's (shared weights: one for all stacks)
    readonly BlockStepShape _shape;

    internal StaggeredParallelDecoder(StagFormerModel model, int? threadsPerStack = null, CallerThreadSetting callerThreads = CallerThreadSetting.PerSession)
    {
        var c = model.Config;
        if (c.Stacks > 1 && c.CrossLag == 0)
            throw new ArgumentException("the parallel engine needs staggered cross-attention (CrossLag = 1): with CrossLag = 0 stack s waits for stack s−1 at the same position");
        Model = model;
        CallerThreads = callerThreads;
        ThreadsPerStack = threadsPerStack ?? Math.Max(1, Environment.ProcessorCount / c.Stacks);
        _shape = BlockStepShape.Of(model);
        if (c.Weights == WeightSharing.Shared)
        {
            var all = new StackedWeights(model);
            _weights = Enumerable.Repeat(all, c.Stacks).ToArray();
        }
        else _weights = Enumerable.Range(0, c.Stacks).Select(s => new StackedWeights(model, new[] { s })).ToArray();
    }

    public IDecodeSession Start(long batch, int? capacity = null) => new Session(this, batch, capacity);

    public void Dispose()
    {
        foreach (var w in _weights.Distinct()) w.Dispose();
    }

    sealed class Session : DecodeSession, ICriticalPathStatistics
    {
        readonly StaggeredParallelDecoder _engine;
        readonly StackWorkers _workers;
        (Tensor K, Tensor V)?[] _pendingMemory;              // [s]: K/V of stack s−1 at Position−1, not yet in stack s's cache
        (Tensor K, Tensor V)?[] _producedMemory;             // [s]: K/V of stack s−1 at Position, made during this step
        readonly Tensor?[] _outputs;                         // [s]: (1, B, d)
        Tensor? _embedded;                                   // (1, B, d)
        HookSet? _hooks;                                     // the caller's hooks during a step, attached on every stack's thread
        int _pos;

        public Session(StaggeredParallelDecoder engine, long batch, int? capacity) : base(engine.Model, batch, capacity)
        {
            _engine = engine;
            _workers = new StackWorkers(Passes, engine.ThreadsPerStack, engine.CallerThreads);
            _pendingMemory = new (Tensor, Tensor)?[Passes];
            _producedMemory = new (Tensor, Tensor)?[Passes];
            _outputs = new Tensor?[Passes];
        }

        public long LastStepCriticalPathTensors { get; private set; }

        protected override Tensor StepAt(Tensor tokens, int pos)
        {
            var stats = DisposeScopeManager.Statistics.TensorStatistics;
            long before = stats.CreatedInScopeCount + stats.CreatedOutsideScopeCount;
            _pos = pos;
            long start = Timeline is null ? 0 : StepTimeline.Now();
            _embedded = Model.Embed(tokens, pos).view(1, Batch, -1);
            Timeline?.Add(pos, Lane(0), "embed", start, StepTimeline.Now());
            _hooks = ModelHooks.Current;
            try { _workers.Run(RunStack); }
            finally { _hooks = null; }
            long joined = Timeline is null ? 0 : StepTimeline.Now();
            // Double buffer: what this step produced is what the next step appends (a stack may finish before the one above reads).
            (_pendingMemory, _producedMemory) = (_producedMemory, _pendingMemory);
            var outs = _outputs.Select(o => o!).ToArray();
            var logits = StagFormerModel.HookStepLogits(Model.Head(Model.Combine(outs)).squeeze(0), pos);   // (B, V)
            Timeline?.Add(pos, Lane(0), "combine + head", joined, StepTimeline.Now());
            foreach (var o in outs) o.Dispose();
            var perJob = _workers.TensorsCreatedPerJob;
            LastStepCriticalPathTensors = stats.CreatedInScopeCount + stats.CreatedOutsideScopeCount - before - perJob[0] + perJob.Max();
            return logits;
        }

        /// <summary>The timeline lane of stack <paramref name="s"/>'s thread: the caller runs stack 1 (and the embedding and head).</summary>
        static string Lane(int s) => s == 0 ? "caller thread" : $"worker thread {s}";

        void RunStack(int s)
        {
            long start = Timeline is null ? 0 : StepTimeline.Now();
            try { RunStackWork(s); }
            finally { Timeline?.Add(_pos, Lane(s), $"stack {s + 1}", start, StepTimeline.Now()); }
        }

        void RunStackWork(int s)
        {
            using var ng = torch.no_grad();
            using var scope = torch.NewDisposeScope();
            using var attached = ModelHooks.Attach(_hooks);   // thread-static: the workers see the caller's hooks only through this
            AppendPending(s);
            ActivationObservers.Current?.BeginPass(s);
            var w = _engine._weights[s];
            var x = _embedded!;
            for (int l = 0; l < w.Layers.Count; l++)
                x = TransformerBlock.Step(x, _pos, l, w.Layers[l], new BlockStepCaches(Cache.Self[s][l], s > 0 ? Cache.Cross[s][l] : null), _engine._shape, firstPass: s);
            if (s + 1 < _outputs.Length)
            {
                // Tensors handed to another thread must leave this thread's dispose scope.
                var memory = x;
                if (_hooks is { } hooks && hooks.Wants(HookNames.Memory(s + 1)))
                {
                    memory = x.clone();
                    hooks.ApplyToRows(memory, s + 1, static (p, _) => HookNames.Memory(p), 0, _pos);
                }
                var (k, v) = _engine._weights[s + 1].Memory!.ProjectStep(memory, _pos);
                _producedMemory[s + 1] = (k.DetachFromDisposeScope(), v.DetachFromDisposeScope());
            }
            _outputs[s] = x.DetachFromDisposeScope();
        }

        void AppendPending(int s)
        {
            if (_pendingMemory[s] is not { } kv) return;
            MemoryProjector.Append(Cache.Cross[s], kv);
            kv.K.Dispose(); kv.V.Dispose();
            _pendingMemory[s] = null;
        }

        /// <summary>The memory the last step produced goes into the caches now (before a prefill or a rollback).</summary>
        protected override void Settle()
        {
            using var ng = torch.no_grad();
            for (int s = 0; s < Passes; s++) AppendPending(s);
        }

        protected override void DisposeOwned()
        {
            _workers.Dispose();
            foreach (var m in _pendingMemory) if (m is { } kv) { kv.K.Dispose(); kv.V.Dispose(); }
        }
    }
}
