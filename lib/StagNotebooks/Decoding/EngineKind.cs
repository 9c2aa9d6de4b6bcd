using System.Text.Json.Serialization;
using StagNotebooks.Model;

namespace StagNotebooks.Decoding;

/// <summary>The decoding engines, by how a step's passes are scheduled (written by name in JSON).</summary>
[JsonConverter(typeof(JsonStringEnumConverter))]
public enum EngineKind
{
    /// <summary>Stacks one after another through the teacher-forced forward (the reference).</summary>
    Sequential,
    /// <summary>Each stack on its own CPU thread.</summary>
    Parallel,
    /// <summary>Retired: the stacked engine batches a shared-weights model's passes through the one set of weights, faster.
    /// Kept so that old names and JSON files give a clear error naming <see cref="Stacked"/>.</summary>
    [Obsolete("the batched engine was retired: use EngineKind.Stacked")]
    Batched,
    /// <summary>All stacks as one batched computation over stacked (p, out, in) weights; separate or shared.</summary>
    Stacked,
    /// <summary>Shared weights, one pass per token reading its own previous outputs; prompt through both passes.</summary>
    Recurrent,
    /// <summary>Recurrent decoding with the prompt decoded recurrently too.</summary>
    RecurrentSelfPrefill,
}

/// <summary>
/// Options of the engines that take any. <paramref name="ThreadsPerStack"/>: libtorch intra-op threads per stack of
/// the thread engine (null: the cores shared evenly); <paramref name="CallerThreads"/>: when it sets the caller's.
/// </summary>
public sealed record EngineOptions(int? ThreadsPerStack = null, CallerThreadSetting CallerThreads = CallerThreadSetting.PerSession);

/// <summary>Names (the CLI's and the benchmark's strings) and construction of <see cref="EngineKind"/>s: the one factory of engines.</summary>
public static class EngineKinds
{
    static readonly (EngineKind Kind, string Name)[] Table =
    {
        (EngineKind.Sequential, "sequential"), (EngineKind.Parallel, "parallel"),
        (EngineKind.Stacked, "stacked"), (EngineKind.Recurrent, "recurrent"), (EngineKind.RecurrentSelfPrefill, "recurrent-selfprefill"),
    };

#pragma warning disable CS0618   // the retired kind is named here only to refuse it
    const EngineKind RetiredBatched = EngineKind.Batched;
#pragma warning restore CS0618

    /// <summary>The engine kinds in service (the retired one excluded).</summary>
    public static IEnumerable<EngineKind> Kinds => Table.Select(t => t.Kind);

    public static IEnumerable<string> Names => Table.Select(t => t.Name);

    public static string Name(this EngineKind kind) => kind == RetiredBatched ? "batched" : Table.First(t => t.Kind == kind).Name;

    /// <summary>Recurrent decoding (either prefill): one pass per token, a different function from the two-pass model by design.</summary>
    public static bool IsRecurrent(this EngineKind kind) => kind is EngineKind.Recurrent or EngineKind.RecurrentSelfPrefill;

    static ArgumentException Retired() =>
        new("the 'batched' engine was retired: use 'stacked' (EngineKind.Stacked), which runs a shared-weights model's passes as one batch through the one set of weights, in fewer calls");

    public static EngineKind Parse(string name) =>
        name == "batched" ? throw Retired()
        : Table.FirstOrDefault(t => t.Name == name) is { Name: not null } hit ? hit.Kind
        : throw new ArgumentException($"unknown engine '{name}' ({string.Join(", ", Names)})");

    /// <summary>Makes an engine of <paramref name="kind"/> for <paramref name="model"/>; the caller disposes it (after its sessions).</summary>
    public static IDecodingEngine Create(StagFormerModel model, EngineKind kind, EngineOptions? options = null)
    {
        options ??= new EngineOptions();
        return kind switch
        {
            EngineKind.Sequential => new SequentialDecoder(model),
            EngineKind.Parallel => new StaggeredParallelDecoder(model, options.ThreadsPerStack, options.CallerThreads),
            EngineKind.Stacked => new StackedDecoder(model),
            EngineKind.Recurrent => new RecurrentDecoder(model, RecurrentPrefill.TwoPass),
            EngineKind.RecurrentSelfPrefill => new RecurrentDecoder(model, RecurrentPrefill.Recurrent),
            RetiredBatched => throw Retired(),
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown engine kind"),
        };
    }
}
