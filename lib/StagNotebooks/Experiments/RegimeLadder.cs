using Microsoft.Data.Analysis;
using StagNotebooks.Data;
using StagNotebooks.Evaluation;
using StagNotebooks.Reporting;
using StagNotebooks.Training;

namespace StagNotebooks.Workbench;

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
        var trained = Experiments.TrainAll(preset, list.SelectMany(Arms), seeds, data, runsRoot, log, device, concurrency: concurrency);
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

    static Comparison Gap(LadderRung r, string better, string worse) => Verdicts.Compare(r.Arm(better), r.Arm(worse), Better.Lower);

    /// <summary>Loss difference (positive: the first arm is worse) against h, with the paired 95% interval as error bars.</summary>
    public static Figure Chart(IReadOnlyList<LadderRung> rungs) =>
        Charts.Lines("The regime ladder: StagFormer's gaps as depth per stack grows", "h (layers per stack)",
            "best validation loss difference (nats; > 0: worse)", Gaps.Select(g =>
            {
                var cs = rungs.Select(r => Gap(r, g.Better, g.Worse)).ToList();
                bool intervals = cs.All(c => !double.IsNaN(c.Low));
                return new Series(g.Name, rungs.Select(r => (double)r.H).ToList(), cs.Select(c => c.Difference).ToList(),
                                  intervals ? cs.Select(c => (c.High - c.Low) / 2).ToList() : null, "lines+markers", ErrorBars: true);
            }));

    /// <summary>One row per rung and gap: the two arms (mean ± sd), the paired difference, its 95% interval and seeds.</summary>
    public static DataFrame Table(IReadOnlyList<LadderRung> rungs)
    {
        var rows = rungs.SelectMany(r => Gaps.Select(g => (r.H, g.Name, C: Gap(r, g.Better, g.Worse)))).ToList();
        return new DataFrame(
            new Int32DataFrameColumn("h", rows.Select(x => x.H)),
            new StringDataFrameColumn("gap", rows.Select(x => x.Name)),
            new StringDataFrameColumn("arms (mean ± sd)", rows.Select(x => $"{x.C.Loser}; {x.C.Winner}")),
            new StringDataFrameColumn("difference", rows.Select(x => Verdicts.Signed(x.C.Difference))),
            new StringDataFrameColumn("95% interval", rows.Select(x => Verdicts.Interval(x.C))),
            new Int32DataFrameColumn("seeds", rows.Select(x => x.C.Seeds)));
    }
}
