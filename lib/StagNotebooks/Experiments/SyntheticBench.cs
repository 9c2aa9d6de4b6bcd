using System.Globalization;
using StagNotebooks.Decoding;
using StagNotebooks.Evaluation;
using StagNotebooks.Evaluation.Synthetic;
using StagNotebooks.Model;
using StagNotebooks.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace StagNotebooks.Experiments;

/// <summary>How a trained model is scored at the answer positions.</summary>
public enum SyntheticScoring
{
    /// <summary>One teacher-forced forward pass (every variant).</summary>
    TeacherForced,
    /// <summary>
    /// Token by token with <see cref="RecurrentDecoder"/> (self-prefill: the cross memory holds the model's own
    /// previous final outputs from the first token on); inputs are the task's tokens. Shared-weights 2×h only.
    /// </summary>
    Recurrent,
}

/// <summary>Answer accuracy of one trained model on one task.</summary>
public sealed record SyntheticResult(string Task, string Variant, SyntheticScoring Scoring, long Seed, double Accuracy, double Chance, double FinalLoss, double TrainSeconds, string RunPath);

/// <summary>
/// Trains a variant on a synthetic task (with the ordinary <see cref="Trainer"/> over a <see cref="SyntheticBatches"/>
/// source) and scores answer accuracy on held-out batches. Finished runs are reused.
/// </summary>
public static class SyntheticBench
{
    /// <summary>The rows of the table: the paper's variants plus the recurrent decoding of shared 2×h.</summary>
    public static readonly IReadOnlyList<string> Variants = new[]
    {
        "baseline-h", "baseline-2h", "separate-2xh", "shared-2xh", "shared-2xh-recurrent", "separate-2xh-nonstaggered",
    };

    public const string GeneratorVersion = "synthetic-v1";

    /// <summary>The trained variant behind a table row and how it is scored ("shared-2xh-recurrent" = shared-2xh decoded recurrently).</summary>
    public static (string Trained, SyntheticScoring Scoring) Row(string variant) =>
        variant.EndsWith("-recurrent", StringComparison.Ordinal) ? (variant[..^"-recurrent".Length], SyntheticScoring.Recurrent) : (variant, SyntheticScoring.TeacherForced);

    public static TrainConfig Config(string preset, string variant, long seed, IEnumerable<string>? overrides = null)
    {
        var p = Presets.Get(preset, PresetKind.Synthetic).Config;
        var c = p with { Model = ModelVariants.Apply(p.Model, Row(variant).Trained), Seed = seed };
        var list = overrides?.ToList();
        return (list is { Count: > 0 } ? c.WithOverrides(list) : c).Validate();
    }

    /// <summary>Trains (or reuses) one model and scores it. <paramref name="evalBatches"/> × BatchSize held-out sequences.</summary>
    public static SyntheticResult Run(SyntheticTaskSpec spec, string preset, string variant, long seed, string runsRoot, Device device,
                                      int evalBatches = 8, IEnumerable<string>? overrides = null, Action<string>? log = null)
    {
        var (trained, scoring) = Row(variant);
        var config = Config(preset, variant, seed, overrides);
        var data = new SyntheticRunData(spec, config.Model.VocabSize, config.ContextLength);
        var task = data.Task;
        var source = new SyntheticBatches(task, seed);
        var request = new RunRequest(config, trained, data, $"{preset}-{task.Name}-{trained}-s{seed}-{RunDirectory.ComputeId(config, data.Id)}");
        var r = RunService.TrainOrReuse(request, new RunOptions(runsRoot, device.ToString(), Log: log));
        // A reused run reports the training time it recorded, not the time it took to load.
        double finalLoss = r.FinalLoss, seconds = r.Metrics[^1].ElapsedSeconds;
        var model = Checkpoint.Load(r.Run.LastCheckpoint, device);
        using (model)
        {
            model.eval();
            double acc = Accuracy(model, source, evalBatches, config.BatchSize, scoring, device);
            log?.Invoke(string.Create(CultureInfo.InvariantCulture, $"{task.Name} {variant} seed {seed}: accuracy {acc:P1} (chance {task.Chance:P1}), final loss {finalLoss:F3}, {seconds:F0} s"));
            return new SyntheticResult(task.Name, variant, scoring, seed, acc, task.Chance, finalLoss, seconds, r.Run.Path);
        }
    }

    /// <summary>Fraction of answer positions where the argmax of the logits is the answer.</summary>
    public static double Accuracy(StagFormerModel model, SyntheticBatches source, int batches, int batchSize, SyntheticScoring scoring, Device device)
    {
        long right = 0, total = 0;
        using var ng = torch.no_grad();
        foreach (var (x, y) in source.EvalBatches(batches, batchSize, device))
        {
            using var scope = torch.NewDisposeScope();
            var logits = Logits(model, x, scoring);                                     // (B, T, V)
            var scored = y.ne(SyntheticBatches.IgnoreIndex);                             // (B, T)
            right += (logits.argmax(-1).eq(y) & scored).sum().item<long>();
            total += scored.sum().item<long>();
            x.Dispose(); y.Dispose();
        }
        return total == 0 ? double.NaN : (double)right / total;
    }

    /// <summary>Logits (B, T, V) of the inputs, teacher-forced or token by token with the recurrent decoder.</summary>
    public static Tensor Logits(StagFormerModel model, Tensor inputs, SyntheticScoring scoring)
    {
        if (scoring == SyntheticScoring.TeacherForced) return model.forward(new ModelInput(inputs)).Logits;
        using var engine = EngineKinds.Create(model, EngineKind.RecurrentSelfPrefill);
        using var session = engine.Start(inputs.shape[0], (int)inputs.shape[1]);
        return session.Prefill(inputs);
    }

    /// <summary>Every (task, row, seed) in order; each model is trained once and scored by every row that uses it.</summary>
    public static IReadOnlyList<SyntheticResult> RunAll(IEnumerable<string> tasks, IEnumerable<string> variants, int seeds, string preset, string runsRoot,
                                                        Device device, int evalBatches = 8, IEnumerable<string>? overrides = null, Action<string>? log = null)
    {
        var list = new List<SyntheticResult>();
        var ov = overrides?.ToList();
        foreach (var t in tasks.Select(SyntheticTaskSpec.Parse))
            foreach (var v in variants)
                for (int s = 1; s <= seeds; s++)
                    list.Add(Run(t, preset, v, s, runsRoot, device, evalBatches, ov, log));
        return list;
    }

    /// <summary>
    /// The comparisons a teacher reads off the table, judged by <see cref="Verdicts"/> (accuracy, higher is better):
    /// does 2×h beat h, does it match 2h, does the lag cost anything against the non-staggered control.
    /// </summary>
    public static IReadOnlyList<VerdictResult> Verdicts(IReadOnlyList<SyntheticResult> results)
    {
        var list = new List<VerdictResult>();
        foreach (var t in results.Select(r => r.Task).Distinct())
        {
            var m = results.Where(r => r.Task == t).GroupBy(r => r.Variant).ToDictionary(g => g.Key, g => (IReadOnlyList<double>)g.Select(r => r.Accuracy).ToList());
            void Add(string text, string a, string b) { if (m.ContainsKey(a) && m.ContainsKey(b)) list.Add(Evaluation.Verdicts.Judge(Claim.Beats($"{t}: {text}", a, b, Better.Higher, "accuracy"), m)); }
            Add("separate 2×h beats baseline h", "separate-2xh", "baseline-h");
            Add("baseline 2h beats separate 2×h (the lag costs)", "baseline-2h", "separate-2xh");
            Add("non-staggered control beats separate 2×h (the lag costs)", "separate-2xh-nonstaggered", "separate-2xh");
            Add("two-pass shared 2×h beats its recurrent decoding", "shared-2xh", "shared-2xh-recurrent");
        }
        return list;
    }
}
