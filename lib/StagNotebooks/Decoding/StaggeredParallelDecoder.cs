using StagNotebooks.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace StagNotebooks.Decoding;

/// <summary>
/// The staggered-parallel engine: in each step the p stacks run at the same time on their own threads, because
/// stack s at position t needs stack s−1 only at positions ≤ t−1, which the previous step produced. After the
/// step, each stack's output becomes the memory of the stack above (appended at the start of the next step,
/// by the thread that owns that stack). Prefill is the teacher-forced pass, stacks in sequence.
/// On CUDA the threads overlap kernel launches; TorchSharp 0.107 exposes no stream API to give each stack a stream.
/// </summary>
public sealed class StaggeredParallelDecoder : IDecodingEngine
{
    public StagFormerModel Model { get; }
    /// <summary>libtorch intra-op threads per stack (default: the cores shared evenly between the p stacks).</summary>
    public int ThreadsPerStack { get; }
    public string Name => "parallel";

    public StaggeredParallelDecoder(StagFormerModel model, int? threadsPerStack = null)
    {
        if (model.Config.Stacks > 1 && model.Config.CrossLag == 0)
            throw new ArgumentException("the parallel engine needs staggered cross-attention (CrossLag = 1): with CrossLag = 0 stack s waits for stack s−1 at the same position");
        Model = model;
        ThreadsPerStack = threadsPerStack ?? Math.Max(1, Environment.ProcessorCount / model.Config.Stacks);
    }

    public IDecodeSession Start(long batch, int? capacity = null) => new Session(this, batch, capacity);

    sealed class Session : IDecodeSession
    {
        readonly StagFormerModel _model;
        readonly StagCache _cache;
        readonly StackWorkers _workers;
        readonly Tensor?[] _pendingMemory;   // [s]: stack s−1's output at Position−1, not yet in stack s's cross cache
        readonly Tensor?[] _outputs;
        Tensor? _embedded;
        int _pos;

        public Session(StaggeredParallelDecoder engine, long batch, int? capacity)
        {
            _model = engine.Model;
            _cache = new StagCache(_model.Config, batch, _model.WeightDevice, _model.WeightDtype, capacity);
            _workers = new StackWorkers(_model.Config.Stacks, engine.ThreadsPerStack);
            _pendingMemory = new Tensor?[_model.Config.Stacks];
            _outputs = new Tensor?[_model.Config.Stacks];
        }

        public int Position => _cache.Position;

        public Tensor Prefill(Tensor tokens)
        {
            if (_pendingMemory.Any(m => m is not null)) throw new InvalidOperationException("prefill after decoding steps is not supported by the parallel engine");
            using var ng = torch.no_grad();
            return _model.forward(new ModelInput(tokens, Position, _cache)).Logits;
        }

        public Tensor Step(Tensor tokens)
        {
            using var scope = torch.NewDisposeScope();
            _pos = Position;
            using (torch.no_grad()) _embedded = _model.Embed(tokens, _pos);
            _workers.Run(RunStack);
            var outs = _outputs.Select(o => o!).ToArray();
            Tensor logits;
            using (torch.no_grad()) logits = _model.Head(_model.Combine(outs)).squeeze(1);
            // This step's outputs are the memory of the stacks above, appended at the start of the next step.
            for (int s = 1; s < outs.Length; s++) { _pendingMemory[s]?.Dispose(); _pendingMemory[s] = outs[s - 1]; }
            outs[^1].Dispose();
            return logits.MoveToOuterDisposeScope();
        }

        void RunStack(int s)
        {
            using var ng = torch.no_grad();
            using var scope = torch.NewDisposeScope();
            if (_pendingMemory[s] is { } m) _model.AppendMemory(s, m, _pos - 1, _cache);
            _outputs[s] = _model.PassStep(s, _embedded!, _pos, _cache).DetachFromDisposeScope();   // handed to the caller's thread
        }

        public void Dispose()
        {
            _workers.Dispose();
            foreach (var m in _pendingMemory) m?.Dispose();
            _cache.Dispose();
        }
    }
}
