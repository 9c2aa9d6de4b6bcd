using StagNotebooks.Data;
using StagNotebooks.Model;
using StagNotebooks.Probing;
using StagNotebooks.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace StagNotebooks.Experiments;

/// <summary>What the observing probes give for one seed on one text: lag profiles, logit lens, CKA between the passes.</summary>
public sealed record SeedProbes(IReadOnlyList<LagProfile> Lags, IReadOnlyList<LensRow> Lens, double[,] Cka);

/// <summary>
/// Notebook 09's experiments over every seed of one trained model: each seed's model is loaded once, and every seed is
/// measured on the same held-out sequences (<see cref="Inputs"/> (B, T), their next tokens <see cref="Targets"/>, and
/// <see cref="Corrupted"/>, B other sequences, the second input of patching). Each method returns one result per seed.
/// </summary>
public sealed class ProbingStudy
{
    public Trained Trained { get; }
    public IReadOnlyList<StagFormerModel> Models { get; }
    public Tensor Inputs { get; }
    public Tensor Targets { get; }
    public Tensor Corrupted { get; }

    ProbingStudy(Trained trained, IReadOnlyList<StagFormerModel> models, Tensor inputs, Tensor targets, Tensor corrupted)
    {
        Trained = trained; Models = models; Inputs = inputs; Targets = targets; Corrupted = corrupted;
    }

    /// <summary>Loads every seed of <paramref name="trained"/> on <paramref name="device"/> and reads 2·<paramref name="sequences"/> evenly spaced test sequences of the run's context length from <paramref name="data"/>.</summary>
    public static ProbingStudy Open(Trained trained, PackedDataset data, int sequences, string device = "auto")
    {
        if (sequences < 1) throw new ArgumentOutOfRangeException(nameof(sequences), sequences, "at least one sequence");
        var models = trained.Seeds.Select(r => ExperimentRuns.LoadModel(r.Run, device: device)).ToList();
        var test = data.Open("test");
        int length = Math.Min(trained.Seeds[0].Run.Config.ContextLength, models[0].Config.MaxContext - 1);
        var rows = Enumerable.Range(0, 2 * sequences).SelectMany(i => test.Read(i * (test.Count / (2 * sequences)), length + 1)).ToArray();
        var batch = torch.tensor(rows, new long[] { 2 * sequences, length + 1 }, device: models[0].WeightDevice).DetachFromDisposeScope();   // (2B, T+1)
        var clean = batch.narrow(0, 0, sequences);
        return new ProbingStudy(trained, models, clean.narrow(1, 0, length), clean.narrow(1, 1, length), batch.narrow(0, sequences, sequences).narrow(1, 0, length));
    }

    /// <summary>Cross-attention ablation (<see cref="CrossAblation"/>) per seed.</summary>
    public IReadOnlyList<IReadOnlyList<AblationArm>> Ablation() => Models.Select(m => CrossAblation.Measure(m, Inputs, Targets)).ToList();

    /// <summary>Memory-lag patching (<see cref="MemoryLagPatching"/>) per seed, lags 0..<paramref name="maxLag"/>.</summary>
    public IReadOnlyList<PatchingSweep> MemoryLags(int maxLag) => Models.Select(m => MemoryLagPatching.Run(m, Inputs, Targets, Corrupted, maxLag)).ToList();

    /// <summary>Recurrent drift (<see cref="RecurrentDrift"/>) per seed after a prompt of <paramref name="prompt"/> tokens, over the first sequence.</summary>
    public IReadOnlyList<IReadOnlyList<DriftPoint>> Drift(int prompt) => Models.Select(m => RecurrentDrift.Measure(m, Inputs.narrow(0, 0, 1), prompt)).ToList();

    /// <summary>What restoring the true memory at each of <paramref name="positions"/> repairs (<see cref="RecurrentRepair"/>) per seed, over all sequences.</summary>
    public IReadOnlyList<IReadOnlyList<RepairPoint>> Repair(int prompt, IReadOnlyList<int> positions) =>
        Models.Select(m => RecurrentRepair.Measure(m, Inputs, prompt, positions)).ToList();

    /// <summary>The observing probes per seed on tokens (1, T): cross-attention lag profiles up to <paramref name="maxLag"/>, the logit lens, CKA between passes 1 and 2.</summary>
    public IReadOnlyList<SeedProbes> Observe(Tensor tokens, int maxLag) => Models.Select(m =>
    {
        using var capture = ActivationCapture.Start();
        using (torch.no_grad()) m.forward(new ModelInput(tokens));
        return new SeedProbes(AttentionAnalysis.CrossAttentionLag(capture, maxLag), LogitLens.Run(m, tokens), Cka.BetweenPasses(capture, 0, 1));
    }).ToList();
}
