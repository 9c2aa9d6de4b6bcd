using System.Text.Json.Serialization;
using StagNotebooks.Model;

namespace StagNotebooks.Decoding;

/// <summary>The decoding engines, by how a step is scheduled (written by name in JSON).</summary>
[JsonConverter(typeof(JsonStringEnumConverter))]
public enum EngineKind
{
    /// <summary>Stacks one after another through the teacher-forced forward (the reference).</summary>
    Sequential,
    /// <summary>Each stack on its own CPU thread.</summary>
    Parallel,
    /// <summary>Shared weights: all passes as one batch through the one set of weights.</summary>
    Batched,
    /// <summary>All stacks as one batched computation over stacked (p, out, in) weights; separate or shared.</summary>
    Stacked,
    /// <summary>Shared weights, one pass per token reading its own previous outputs; prompt through both passes.</summary>
    Recurrent,
    /// <summary>Recurrent decoding with the prompt decoded recurrently too.</summary>
    RecurrentSelfPrefill,
}

/// <summary>Names (the CLI's and the benchmark's strings) and construction of <see cref="EngineKind"/>s.</summary>
public static class EngineKinds
{
    static readonly (EngineKind Kind, string Name)[] Table =
    {
        (EngineKind.Sequential, "sequential"), (EngineKind.Parallel, "parallel"), (EngineKind.Batched, "batched"),
        (EngineKind.Stacked, "stacked"), (EngineKind.Recurrent, "recurrent"), (EngineKind.RecurrentSelfPrefill, "recurrent-selfprefill"),
    };

    public static IEnumerable<string> Names => Table.Select(t => t.Name);

    public static string Name(this EngineKind kind) => Table.First(t => t.Kind == kind).Name;

    /// <summary>Recurrent decoding (either prefill): one pass per token, a different function from the two-pass model by design.</summary>
    public static bool IsRecurrent(this EngineKind kind) => kind is EngineKind.Recurrent or EngineKind.RecurrentSelfPrefill;

    public static EngineKind Parse(string name) =>
        Table.FirstOrDefault(t => t.Name == name) is { Name: not null } hit ? hit.Kind
            : throw new ArgumentException($"unknown engine '{name}' ({string.Join(", ", Names)})");

    public static IDecodingEngine Create(StagFormerModel model, EngineKind kind) => kind switch
    {
        EngineKind.Sequential => new SequentialDecoder(model),
        EngineKind.Parallel => new StaggeredParallelDecoder(model),
        EngineKind.Batched => new BatchedSharedDecoder(model),
        EngineKind.Stacked => new StackedDecoder(model),
        EngineKind.Recurrent => new RecurrentDecoder(model, RecurrentPrefill.TwoPass),
        EngineKind.RecurrentSelfPrefill => new RecurrentDecoder(model, RecurrentPrefill.Recurrent),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown engine kind"),
    };
}
