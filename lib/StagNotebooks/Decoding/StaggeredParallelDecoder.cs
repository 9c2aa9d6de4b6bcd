using StagNotebooks.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace StagNotebooks.Decoding;

/// <summary>
/// The staggered-parallel engine: in each step the p stacks run at the same time on their own threads, because
/// stack s at position t needs stack s−1 only at positions ≤ t−1, which the previous step produced. Each stack's
/// thread also projects its fresh output into the cross-attention K/V of the stack above (balancing the work:
/// the upper stack has the cross-attention, the lower one the projection); the upper stack appends them at the
/// start of the next step. Prefill is the teacher-forced pass, stacks in sequence.
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

    public StaggeredParallelDecoder(StagFormerModel model, int? threadsPerStack = null, CallerThreadSetting callerThreads = CallerThreadSetting.PerSession)
    {
        CallerThreads = callerThreads;
        if (model.Config.Stacks > 1 && model.Config.CrossLag == 0)
            throw new ArgumentException("the parallel engine needs staggered cross-attention (CrossLag = 1): with CrossLag = 0 stack s waits for stack s−1 at the same position");
        Model = model;
        ThreadsPerStack = threadsPerStack ?? Math.Max(1, Environment.ProcessorCount / model.Config.Stacks);
    }

    public IDecodeSession Start(long batch, int? capacity = null) { Model.eval(); return new Session(this, batch, capacity); }   // decoding never runs dropout

    sealed class Session : IDecodeSession, ICriticalPathStatistics
    {
        readonly StagFormerModel _model;
        readonly StagCache _cache;
        readonly StackWorkers _workers;
        readonly MemoryProjector?[] _projectors;                 // [s]: into stack s's cross caches (s ≥ 1)
        (Tensor[] K, Tensor[] V)?[] _pendingMemory;              // [s]: K/V of stack s−1 at Position−1, not yet in stack s's cache
        (Tensor[] K, Tensor[] V)?[] _producedMemory;             // [s]: K/V of stack s−1 at Position, made during this step
        readonly Tensor?[] _outputs;
        Tensor? _embedded;
        int _pos;

        public Session(StaggeredParallelDecoder engine, long batch, int? capacity)
        {
            _model = engine.Model;
            int p = _model.Config.Stacks;
            _cache = _model.NewCache(batch, capacity);
            _workers = new StackWorkers(p, engine.ThreadsPerStack, engine.CallerThreads);
            _projectors = Enumerable.Range(0, p).Select(s => s == 0 ? null : new MemoryProjector(_model, _model.StackFor(s))).ToArray();
            _pendingMemory = new (Tensor[] K, Tensor[] V)?[p];
            _producedMemory = new (Tensor[] K, Tensor[] V)?[p];
            _outputs = new Tensor?[p];
        }

        public int Position => _cache.Position;
        public long LastStepCriticalPathTensors { get; private set; }

        public Tensor Prefill(Tensor tokens)
        {
            if (_pendingMemory.Any(m => m is not null)) throw new InvalidOperationException("prefill after decoding steps is not supported by the parallel engine");
            using var ng = torch.no_grad();
            return _model.forward(new ModelInput(tokens, Position, _cache)).Logits;
        }

        public Tensor Step(Tensor tokens)
        {
            var stats = DisposeScopeManager.Statistics.TensorStatistics;
            long before = stats.CreatedInScopeCount + stats.CreatedOutsideScopeCount;
            using var scope = torch.NewDisposeScope();
            _pos = Position;
            using (torch.no_grad()) _embedded = _model.Embed(tokens, _pos);
            _workers.Run(RunStack);
            // Double buffer: what this step produced is what the next step appends (a stack may finish before the one above reads).
            (_pendingMemory, _producedMemory) = (_producedMemory, _pendingMemory);
            var outs = _outputs.Select(o => o!).ToArray();
            Tensor logits;
            using (torch.no_grad()) logits = _model.Head(_model.Combine(outs)).squeeze(1);
            foreach (var o in outs) o.Dispose();
            var perJob = _workers.TensorsCreatedPerJob;
            LastStepCriticalPathTensors = stats.CreatedInScopeCount + stats.CreatedOutsideScopeCount - before - perJob[0] + perJob.Max();
            return logits.MoveToOuterDisposeScope();
        }

        void RunStack(int s)
        {
            using var ng = torch.no_grad();
            using var scope = torch.NewDisposeScope();
            if (_pendingMemory[s] is { } kv)
            {
                MemoryProjector.Append(_cache.Cross[s], kv);
                Dispose(kv);
                _pendingMemory[s] = null;
            }
            var h = _model.PassStep(s, _embedded!, _pos, _cache);
            if (s + 1 < _outputs.Length)
            {
                // Tensors handed to another thread must leave this thread's dispose scope.
                var (k, v) = _projectors[s + 1]!.Project(h, _pos);
                foreach (var t in k.Concat(v)) t.DetachFromDisposeScope();
                _producedMemory[s + 1] = (k, v);
            }
            _outputs[s] = h.DetachFromDisposeScope();
        }

        static void Dispose((Tensor[] K, Tensor[] V) kv) { foreach (var t in kv.K.Concat(kv.V)) t.Dispose(); }

        public void Dispose()
        {
            _workers.Dispose();
            foreach (var m in _pendingMemory) if (m is { } kv) Dispose(kv);
            foreach (var p in _projectors) p?.Dispose();
            _cache.Dispose();
        }
    }
}
