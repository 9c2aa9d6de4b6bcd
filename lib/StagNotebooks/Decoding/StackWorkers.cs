using TorchSharp;

namespace StagNotebooks.Decoding;

/// <summary>When the caller's libtorch intra-op thread count is set to its share of the cores.</summary>
public enum CallerThreadSetting
{
    /// <summary>Once, at the first <see cref="StackWorkers.Run"/> of the session (again only if something changed it
    /// in between); the caller's previous count is restored when the workers are disposed.</summary>
    PerSession,
    /// <summary>Set before and restored after every <see cref="StackWorkers.Run"/>: two set_num_threads per step (the
    /// old behaviour, kept to measure what it cost).</summary>
    PerStep,
}

/// <summary>
/// Long-lived threads, one per extra stack, that run a job concurrently with the caller (which takes job 0).
/// Each thread owns its share of the cores: libtorch's intra-op thread count is set per thread once at start,
/// so p stacks on n cores do not oversubscribe; the caller's is set once per session (<see cref="CallerThreadSetting"/>).
/// Dispose scopes and grad mode are per thread in TorchSharp, so each job opens its own.
/// </summary>
public sealed class StackWorkers : IDisposable
{
    readonly CallerThreadSetting _callerSetting;
    int? _callerBefore;        // the caller's count before the session changed it (PerSession)
    int _callerThread = -1;
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
    public StackWorkers(int jobs, int threadsPerJob, CallerThreadSetting callerSetting = CallerThreadSetting.PerSession)
    {
        _callerSetting = callerSetting;
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
        int before = torch.get_num_threads();   // a query, not a set: cheap
        if (before != _threadsPerJob)
        {
            if (_callerSetting == CallerThreadSetting.PerSession && _callerBefore is null)
            {
                _callerBefore = before;
                _callerThread = Environment.CurrentManagedThreadId;
            }
            torch.set_num_threads(_threadsPerJob);
        }
        try { RunCounted(0); }
        catch (Exception e) { Interlocked.CompareExchange(ref _error, e, null); }
        finally
        {
            _done.Wait();
            if (_callerSetting == CallerThreadSetting.PerStep && before != _threadsPerJob) torch.set_num_threads(before);
        }
        if (_error != null) throw new AggregateException("a stack failed during a parallel step", _error);
    }

    /// <summary>The caller's count as the session found it, or null when the session never changed it.</summary>
    public int? CallerThreadsBefore => _callerBefore;

    public void Dispose()
    {
        // Restore the caller's count (only on the thread it was changed on: the setting is per thread).
        if (_callerBefore is int n && Environment.CurrentManagedThreadId == _callerThread) torch.set_num_threads(n);
        _stop = true;
        foreach (var g in _go) g.Set();
        foreach (var t in _threads) t.Join();
        foreach (var g in _go) g.Dispose();
        _done.Dispose();
    }
}
