using StagNotebooks.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace StagNotebooks.Probing;

/// <summary>
/// Run-with-cache (TransformerLens' <c>run_with_cache</c>): a copy of every hook point a filter accepts, recorded by a
/// read-only hook in <see cref="Hooks"/>. Successive calls (a prefill, then decode steps) append along T in the order
/// they come. Memory is bounded: a record that would take the copies past <see cref="MaxBytes"/> throws, naming the
/// point (the call fails and its hooks are detached). Records from the parallel engine's stack threads are locked.
/// </summary>
public sealed class ActivationCache : IDisposable
{
    readonly Dictionary<string, List<Tensor>> _chunks = new(StringComparer.Ordinal);
    readonly Func<string, bool> _filter;
    readonly Device? _device;
    readonly object _lock = new();

    /// <param name="filter">which hook points to record (null: all)</param>
    /// <param name="maxBytes">the most the copies may take</param>
    /// <param name="device">where copies go (null: where they were computed)</param>
    public ActivationCache(Func<string, bool>? filter = null, long maxBytes = 256L << 20, Device? device = null)
    {
        _filter = filter ?? (_ => true);
        MaxBytes = maxBytes;
        _device = device;
        Hooks = new HookSet().Add(_filter, Record);
    }

    /// <summary>
    /// Also records the attention-pattern points <paramref name="names"/> (<see cref="HookNames.Patterns"/>), which a
    /// filter never reaches: they are computed only for hooks added by their exact name. Returns this cache.
    /// </summary>
    public ActivationCache WithPatterns(IEnumerable<string> names)
    {
        foreach (var name in names)
        {
            if (!HookNames.IsPattern(name)) throw new ArgumentException($"'{name}' is not an attention-pattern point (HookNames.Patterns)", nameof(names));
            Hooks.Add(name, Record);
        }
        return this;
    }

    public long MaxBytes { get; }
    /// <summary>Bytes the copies take now.</summary>
    public long Bytes { get; private set; }
    /// <summary>The read-only hooks that fill this cache: attach them (alone or added to others) for the calls to record.</summary>
    public HookSet Hooks { get; }

    /// <summary>The recorded names, in the order they first fired.</summary>
    public IReadOnlyList<string> Names { get { lock (_lock) return _chunks.Keys.ToList(); } }

    public bool Contains(string name) { lock (_lock) return _chunks.ContainsKey(name); }

    /// <summary>(B, T, …): every recorded call's value at <paramref name="name"/>, concatenated along T. Owned by the cache.</summary>
    public Tensor this[string name]
    {
        get
        {
            lock (_lock)
            {
                if (!_chunks.TryGetValue(name, out var list)) throw new KeyNotFoundException($"hook point '{name}' was not recorded (recorded: {string.Join(", ", _chunks.Keys)})");
                if (list.Count > 1)
                {
                    var all = torch.cat(list.ToArray(), 1).DetachFromDisposeScope();
                    foreach (var t in list) t.Dispose();
                    list.Clear(); list.Add(all);
                }
                return list[0];
            }
        }
    }

    Tensor? Record(Tensor value, HookPoint point)
    {
        long bytes = value.NumberOfElements * value.ElementSize;
        lock (_lock)
        {
            if (Bytes + bytes > MaxBytes)
                throw new InvalidOperationException($"activation cache full at {point.Name}: {Bytes + bytes} bytes would pass its bound of {MaxBytes}; record fewer hook points or raise maxBytes");
            var copy = (_device is null ? value.detach().clone() : value.detach().to(_device).clone()).DetachFromDisposeScope();
            if (!_chunks.TryGetValue(point.Name, out var list)) _chunks[point.Name] = list = new List<Tensor>();
            list.Add(copy);
            Bytes += bytes;
        }
        return null;
    }

    /// <summary>Logits of a teacher-forced forward of <paramref name="tokens"/> with this cache recording (no_grad).</summary>
    public Tensor Run(StagFormerModel model, Tensor tokens) => Interventions.RunWithHooks(model, tokens, Hooks);

    public void Dispose()
    {
        lock (_lock)
        {
            foreach (var t in _chunks.Values.SelectMany(l => l)) t.Dispose();
            _chunks.Clear();
            Bytes = 0;
        }
    }
}
