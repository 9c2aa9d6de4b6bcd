using TorchSharp;

namespace StagNotebooks.Decoding;

/// <summary>
/// Long-lived threads, one per extra stack, that run a job concurrently with the caller (which takes job 0).
/// Each thread owns its share of the cores: libtorch's intra-op thread count is set per thread once at start,
/// so p stacks on n cores do not oversubscribe. Dispose scopes and grad mode are per thread in TorchSharp,
/// so each job opens its own.
/// </summary>
public sealed class StackWorkers : IDisposable
{
    readonly Thread[] _threads;
    readonly ManualResetEventSlim[] _go;
    readonly CountdownEvent _done;
    readonly int _threadsPerJob;
    Action<int>? _job;
    Exception? _error;
    readonly long[] _tensorsCreated;
    volatile bool _stop;

    /// <param name="jobs">jobs run per call (the caller runs job 0, each worker one more)</param>
    /// <param name="threadsPerJob">libtorch intra-op threads each job may use</param>
    public StackWorkers(int jobs, int threadsPerJob)
    {
        _threadsPerJob = Math.Max(1, threadsPerJob);
        _go = Enumerable.Range(0, jobs - 1).Select(_ => new ManualResetEventSlim(false, spinCount: 2000)).ToArray();
        _done = new CountdownEvent(jobs - 1);
        _tensorsCreated = new long[jobs];
        _threads = Enumerable.Range(1, jobs - 1).Select(i => new Thread(() => Loop(i)) { IsBackground = true, Name = $"stack-{i}" }).ToArray();
        foreach (var t in _threads) t.Start();
    }

    public int Jobs => _threads.Length + 1;

    /// <summary>Tensors each job created in the last <see cref="Run"/>: the length of each stack's op chain.</summary>
    public IReadOnlyList<long> TensorsCreatedPerJob => _tensorsCreated;

    void RunCounted(int index)
    {
        var stats = DisposeScopeManager.Statistics.TensorStatistics;   // per thread
        long before = stats.CreatedInScopeCount + stats.CreatedOutsideScopeCount;
        _job!(index);
        _tensorsCreated[index] = stats.CreatedInScopeCount + stats.CreatedOutsideScopeCount - before;
    }

    void Loop(int index)
    {
        torch.set_num_threads(_threadsPerJob);
        var go = _go[index - 1];
        while (true)
        {
            go.Wait();
            go.Reset();
            if (_stop) return;
            try { RunCounted(index); }
            catch (Exception e) { Interlocked.CompareExchange(ref _error, e, null); }
            _done.Signal();
        }
    }

    /// <summary>Runs job(0..Jobs−1) at the same time and returns when all have finished; rethrows the first failure.</summary>
    public void Run(Action<int> job)
    {
        _job = job; _error = null;
        _done.Reset(_threads.Length);
        foreach (var g in _go) g.Set();
        int before = torch.get_num_threads();
        if (before != _threadsPerJob) torch.set_num_threads(_threadsPerJob);
        try { RunCounted(0); }
        catch (Exception e) { Interlocked.CompareExchange(ref _error, e, null); }
        finally
        {
            _done.Wait();
            if (before != _threadsPerJob) torch.set_num_threads(before);
        }
        if (_error != null) throw new AggregateException("a stack failed during a parallel step", _error);
    }

    public void Dispose()
    {
        _stop = true;
        foreach (var g in _go) g.Set();
        foreach (var t in _threads) t.Join();
        foreach (var g in _go) g.Dispose();
        _done.Dispose();
    }
}
