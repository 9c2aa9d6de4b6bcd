using StagNotebooks.Data;
using StagNotebooks.Evaluation;
using StagNotebooks.Training;

namespace StagNotebooks.Experiments;

/// <summary>One rung of the ladder: the four Table-1 arms trained at h layers per stack, every seed.</summary>
public sealed record LadderRung(int H, IReadOnlyList<Trained> Models)
{
    /// <summary>Per-seed best validation loss of <paramref name="variant"/> at this rung (seed order).</summary>
    public IReadOnlyList<double> Losses(string variant) =>
        Models.Single(m => m.Label == RegimeLadder.Label(variant, H)).Seeds.Select(r => r.BestValLoss ?? double.NaN).ToList();

    public ArmStats Arm(string variant) => ArmStats.Of(variant, Losses(variant));
}

/// <summary>
/// Does the paper's claim emerge with depth? At h = 1 stack 2 has one layer over the current token and stack 1's
/// outputs at ≤ i − 1 summarise a context its own self-attention also sees, so a 2×1 StagFormer is expected to behave
/// like a 1-layer model (STAGFORMER.md §7). The ladder trains baseline h, baseline 2h, separate 2×h and shared 2×h at
/// h = 1, 2, 3, … on one preset's data, budget and recipe (only the depth changes: every rung sees the same tokens),
/// and reports how the StagFormer's gaps to baseline 2h and baseline h move with h, as paired differences with
/// 95% t-intervals over seeds.
/// </summary>
public static class RegimeLadder
{
    public static readonly IReadOnlyList<string> Variants = new[] { "baseline-h", "baseline-2h", "separate-2xh", "shared-2xh" };

    public static string Label(string variant, int h) => $"{variant}@h{h}";

    public static IReadOnlyList<TrainingArm> Arms(int h) =>
        Variants.Select(v => new TrainingArm(Label(v, h), v, Array.Empty<string>(), h)).ToList();

    /// <summary>Trains (or reuses) every rung, <paramref name="concurrency"/> runs at a time (0: the measured choice); finished runs are reused, so an interrupted ladder resumes.</summary>
    public static IReadOnlyList<LadderRung> Run(string preset, IEnumerable<int> hs, int seeds, PackedDataset data, string? runsRoot = null,
                                                Action<string>? log = null, string device = "auto", int concurrency = 1)
    {
        var list = hs.ToList();
        if (list.Count == 0 || list.Any(h => h < 1)) throw new ArgumentException($"the ladder needs layer counts h ≥ 1 (got {string.Join(", ", list)})");
        // One list for the scheduler: its estimate covers every rung, and runs of any rungs train side by side.
        var trained = ExperimentRuns.TrainAll(preset, list.SelectMany(Arms), seeds, data, runsRoot, log, device, concurrency: concurrency);
        return list.Select((h, i) => new LadderRung(h, trained.Skip(i * Variants.Count).Take(Variants.Count).ToList())).ToList();
    }

    /// <summary>The gaps the chart plots: (name, the claimed better arm, the other), each a paired comparison at every rung.</summary>
    public static readonly IReadOnlyList<(string Name, string Better, string Worse)> Gaps = new[]
    {
        ("separate 2×h − baseline 2h", "baseline-2h", "separate-2xh"),
        ("separate 2×h − baseline h", "baseline-h", "separate-2xh"),
        ("shared 2×h − baseline 2h", "baseline-2h", "shared-2xh"),
        ("baseline h − baseline 2h (depth)", "baseline-2h", "baseline-h"),
    };

    /// <summary>One gap at one rung: the paired comparison of <paramref name="better"/> (the arm claimed better) with <paramref name="worse"/>.</summary>
    public static Comparison Gap(LadderRung r, string better, string worse) => Verdicts.Compare(r.Arm(better), r.Arm(worse), Better.Lower);
}
