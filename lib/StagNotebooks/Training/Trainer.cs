using System.Diagnostics;
using System.Runtime.InteropServices;
using StagNotebooks.Data;
using StagNotebooks.IO;
using StagNotebooks.Model;
using StagNotebooks.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace StagNotebooks.Training;

/// <summary>What a progress display shows after each step.</summary>
public sealed record TrainProgress(int Step, int TotalSteps, StepMetrics Metrics);

/// <param name="Reused">a finished run with the same config and data was found and returned without training</param>
public sealed record TrainResult(RunDirectory Run, int Steps, double FinalLoss, double? BestValLoss, IReadOnlyList<StepMetrics> Metrics, bool Resumed, bool Reused = false);

/// <summary>A checkpoint could not be written (a full disk, a file-size limit, permissions); the previous one is intact.</summary>
public sealed class CheckpointWriteException(string message, Exception inner) : Exception(message, inner);

/// <summary>Training stopped because the loss or the gradients stopped being finite.</summary>
public sealed class TrainingDivergedException(string message) : Exception(message);

/// <summary>
/// Trains one model of a run: AdamW (weight decay on matrices only), warmup + cosine or WSD, gradient clipping and
/// accumulation, periodic validation, crash-safe checkpoints (<see cref="CheckpointStore"/>: last and best) and exact
/// resumption, falling back to the previous checkpoint when the newest fails to read. Every step runs in
/// its own dispose scope, so a long run does not grow in memory.
/// </summary>
public sealed class Trainer : IDisposable
{
    readonly TrainConfig _config;
    readonly RunDirectory _run;
    readonly IBatchSource _train;
    readonly IEvalSource? _val;
    readonly Device _device;
    readonly double _peakFlops;
    public StagFormerModel Model { get; }
    public OptimizerHelper Optimizer { get; }
    readonly double[] _groupScales;   // per optimizer group: its multiple of the scheduled learning rate

    /// <param name="peakGflops">the roofline for MFU (stag doctor's GEMM GFLOP/s); NaN leaves MFU out</param>
    public Trainer(RunDirectory run, IBatchSource train, IEvalSource? val, Device device, double peakGflops = double.NaN)
    {
        _config = run.Config.Validate();
        if (_config.Model.VocabSize == 0) throw new ConfigException("Model.VocabSize", "still 0: set it from the tokenizer before training");
        _run = run; _train = train; _val = val; _device = device; _peakFlops = peakGflops * 1e9;
        Model = new StagFormerModel(_config.Model, _config.Seed).to(device);
        (Optimizer, _groupScales) = MakeOptimizer(Model, _config);
    }

    /// <summary>
    /// Whether AdamW decays a parameter: weight matrices (dim ≥ 2) yes; norms, the p > 2 mixing weights (dim 1) and
    /// the cross-attention null slots no — the slots are (1, H, 1, D), so "dim ≥ 2" alone would decay them
    /// (it did before <see cref="TrainConfig.DecayNullSlots"/> existed; set it to get that back).
    /// </summary>
    public static bool Decays(string name, Tensor p, TrainConfig c) =>
        p.dim() >= 2 && (c.DecayNullSlots || !name.Split('.')[^1].StartsWith("null_", StringComparison.Ordinal));

    /// <summary>
    /// The multiple of the scheduled learning rate a parameter trains at: <see cref="TrainConfig.CrossAttentionLrScale"/>
    /// for cross-attention, <see cref="TrainConfig.EmbeddingLrScale"/> for the embeddings, 1 elsewhere.
    /// </summary>
    public static double LrScale(string name, TrainConfig c) =>
        name.Contains(".cross_layers.", StringComparison.Ordinal) ? c.CrossAttentionLrScale ?? 1
        : name.StartsWith("tok_embeddings.", StringComparison.Ordinal) || name.StartsWith("pos_embeddings.", StringComparison.Ordinal) ? c.EmbeddingLrScale ?? 1
        : 1;

    /// <summary>
    /// AdamW with weight decay where <see cref="Decays"/> says so, none elsewhere, one group per (decay, <see cref="LrScale"/>):
    /// decayed groups first, then by scale (so without scales: the two groups, decayed and not, as before).
    /// </summary>
    static (OptimizerHelper Optimizer, double[] Scales) MakeOptimizer(StagFormerModel model, TrainConfig c)
    {
        var keyed = model.named_parameters().Select(x => (Decay: Decays(x.name, x.parameter, c), Scale: LrScale(x.name, c), x.parameter))
            .GroupBy(x => (x.Decay, x.Scale)).OrderByDescending(g => g.Key.Decay).ThenBy(g => g.Key.Scale).ToList();
        // ParamGroup(params, weight_decay) would reset lr and betas to defaults: pass full Options (TorchSharp 0.107 behaviour).
        var groups = keyed.Select(g => new AdamW.ParamGroup(g.Select(x => x.parameter).ToList(),
            new AdamW.Options { LearningRate = c.LearningRate * g.Key.Scale, beta1 = c.Beta1, beta2 = c.Beta2, eps = 1e-8, weight_decay = g.Key.Decay ? c.WeightDecay : 0 })).ToList();
        return (torch.optim.AdamW(groups, c.LearningRate, c.Beta1, c.Beta2, 1e-8, c.WeightDecay), keyed.Select(g => g.Key.Scale).ToArray());
    }

    public TrainResult Run(Action<TrainProgress>? onStep = null, CancellationToken cancel = default)
    {
        var c = _config;
        var metrics = new MetricsLog(_run.Path);
        var store = new CheckpointStore(_run.Checkpoints);
        store.Recover();
        var (start, tokens, elapsedBefore, best, bestStep, resumed) = StartOrResume(store);
        metrics.TruncateAfter(start);
        var diagnostics = c.Model.IsBaseline ? null : new CrossDiagnosticsLog(_run.Path);
        diagnostics?.TruncateAfter(start);

        int total = c.TotalSteps;
        double flopsPerToken = FlopCounter.TrainingFlopsPerToken(c.Model, c.ContextLength);
        var clock = Stopwatch.StartNew();
        double lastLoss = double.NaN;
        var parameters = Model.parameters().ToArray();
        for (int step = start; step < total; step++)
        {
            if (cancel.IsCancellationRequested) break;
            if (c.TimeBudgetSeconds is double budget && elapsedBefore + clock.Elapsed.TotalSeconds >= budget) break;
            var stepClock = Stopwatch.StartNew();
            double lr = LearningRateSchedule.At(c, step);
            var (loss, gradNorm) = OptimizerStep(step, lr, parameters, store);
            TorchRuntime.Synchronize(_device);
            tokens += c.TokensPerStep;
            lastLoss = loss;
            double stepSeconds = stepClock.Elapsed.TotalSeconds;
            double tps = c.TokensPerStep / stepSeconds;
            var row = new StepMetrics(step + 1, tokens, loss, lr, gradNorm, tps, double.IsFinite(_peakFlops) ? flopsPerToken * tps / _peakFlops : null, elapsedBefore + clock.Elapsed.TotalSeconds);

            bool last = step + 1 == total;
            bool improved = false;
            if (_val != null && ((step + 1) % c.EvalEvery == 0 || last))
            {
                var (valLoss, ppl, bpb) = Evaluate();
                row = row with { ValLoss = valLoss, ValPerplexity = ppl, ValBitsPerByte = bpb };
                if (best is null || valLoss < best) { best = valLoss; bestStep = step + 1; improved = true; }
                diagnostics?.Append(step + 1, DiagnoseCrossAttention());
            }
            metrics.Append(row);
            TestHooks.StepDone(step + 1);
            if ((step + 1) % c.CheckpointEvery == 0 || last || improved)
            {
                SaveCheckpoint(store, new TrainingState(step + 1, tokens, elapsedBefore + clock.Elapsed.TotalSeconds, best, bestStep, TrainingCheckpoint.CaptureRng()), improved);
            }
            onStep?.Invoke(new TrainProgress(step + 1, total, row));
        }
        return Finish(metrics, total, lastLoss, best, bestStep, resumed);
    }

    /// <summary>Where the run starts: step 0, or the state of the newest checkpoint (its step, tokens, clock and best validation loss).</summary>
    (int Start, long Tokens, double ElapsedBefore, double? Best, int? BestStep, bool Resumed) StartOrResume(CheckpointStore store)
    {
        if (Resume(store) is { } s) return (s.Step, s.Tokens, s.ElapsedSeconds, s.BestValLoss, s.BestStep, true);
        return (0, 0, 0, null, null, false);
    }

    /// <summary>
    /// One optimizer step: the micro-batches of global step <paramref name="step"/> forward and backward, gradient
    /// clipping (or just the norm), the divergence check, then AdamW at learning rate <paramref name="lr"/>.
    /// </summary>
    (double Loss, double GradNorm) OptimizerStep(int step, double lr, Parameter[] parameters, CheckpointStore store)
    {
        var c = _config;
        double loss = 0, gradNorm;
        Model.train();
        using (var scope = torch.NewDisposeScope())
        using (torch.enable_grad())   // grad mode is per thread, and a caller (a notebook cell) may have turned it off
        {
            Optimizer.zero_grad();
            for (int micro = 0; micro < c.GradAccumulation; micro++)
            {
                var (x, y) = _train.Batch((long)step * c.GradAccumulation + micro, c.BatchSize, c.ContextLength, _device);
                var logits = Model.forward(new ModelInput(x)).Logits;                       // (B, T, V)
                var l = nn.functional.cross_entropy(logits.view(-1, logits.shape[^1]), y.reshape(-1)) / c.GradAccumulation;
                l.backward();
                loss += l.item<float>();
            }
            gradNorm = c.GradClip > 0
                ? nn.utils.clip_grad_norm_(parameters, c.GradClip)
                : Math.Sqrt(parameters.Where(p => p.grad is not null).Sum(p => p.grad!.pow(2).sum().item<float>()));
            if (!double.IsFinite(loss) || !double.IsFinite(gradNorm))
                throw new TrainingDivergedException(
                    $"step {step}: {(double.IsFinite(loss) ? "gradient norm" : "loss")} is {(double.IsFinite(loss) ? gradNorm : loss)}; " +
                    (store.Current is { } cur ? $"the last good checkpoint is {Path.Combine(store.Folder, cur)}" : "no checkpoint was written yet"));
            foreach (var (g, scale) in Optimizer.ParamGroups.Zip(_groupScales)) g.LearningRate = lr * scale;
            Optimizer.step();
        }
        return (loss, gradNorm);
    }

    /// <summary>Writes the checkpoint of <paramref name="state"/>; a failed write stops training, naming the last good checkpoint.</summary>
    void SaveCheckpoint(CheckpointStore store, TrainingState state, bool improved)
    {
        try { store.Save(state.Step, folder => TrainingCheckpoint.WriteInto(folder, Model, Optimizer, state), improved); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ExternalException or ArgumentException)   // EFBIG surfaces as ArgumentException from FileStream.SetLength
        {
            var lastGood = store.Current is { } cur ? $"the last good checkpoint ({Path.Combine(store.Folder, cur)}) is intact" : "no checkpoint was written before";
            throw new CheckpointWriteException(
                $"could not write the checkpoint of step {state.Step} in {store.Folder}: {e.Message}. Training stopped; {lastGood}. " +
                "Free some space (or fix the folder) and run the same command to resume.", e);
        }
    }

    /// <summary>The result from the metrics log; a run that reached its last step is marked done.</summary>
    TrainResult Finish(MetricsLog metrics, int total, double lastLoss, double? best, int? bestStep, bool resumed)
    {
        var all = metrics.Read();
        if (all.Count > 0 && all[^1].Step == total)
            AtomicFile.WriteAllText(_run.DoneFile, System.Text.Json.JsonSerializer.Serialize(new { steps = total, final_loss = all[^1].Loss, best_val_loss = best, best_step = bestStep, device = _device.ToString(), threads = torch.get_num_threads() }));
        return new TrainResult(_run, all.Count > 0 ? all[^1].Step : 0, all.Count > 0 ? all[^1].Loss : lastLoss, best, all, resumed);
    }

    /// <summary>
    /// Loads the newest readable checkpoint named by checkpoints/last, falling back to the one before when it fails to
    /// read (the failed one is reported by file and kept as *.unreadable). Null when there is no checkpoint.
    /// </summary>
    TrainingState? Resume(CheckpointStore store)
    {
        var candidates = store.Candidates();
        var failures = new List<string>();
        foreach (var name in candidates)
        {
            var folder = Path.Combine(store.Folder, name);
            if (!Directory.Exists(folder)) { failures.Add($"{folder}: missing"); continue; }
            try
            {
                var state = TrainingCheckpoint.Load(folder, Model, Optimizer);
                store.Current = name;
                Log?.Invoke(failures.Count > 0 ? $"resumed from the previous checkpoint, step {state.Step} ({folder})" : $"resuming from step {state.Step} ({folder})");
                return state;
            }
            catch (CheckpointException e)
            {
                var kept = store.MarkUnreadable(name);
                failures.Add(e.Message);
                Log?.Invoke($"checkpoint {folder} failed to read: {e.Message} (kept as {kept}); trying the previous one");
            }
        }
        if (failures.Count > 0)
            throw new CheckpointException($"no readable checkpoint in {store.Folder}:\n  {string.Join("\n  ", failures)}\n" +
                                          "the unreadable ones are kept as *.unreadable; move the checkpoints folder away to train from step 0");
        return null;
    }

    /// <summary>Where resumption and fallback messages go (stderr for `stag train`).</summary>
    public Action<string>? Log { get; set; }

    /// <summary>Validation loss (nats/token), perplexity and bits per byte over the configured number of windows.</summary>
    public (double Loss, double Perplexity, double BitsPerByte) Evaluate()
    {
        if (_val is null) throw new InvalidOperationException("no validation data");
        double loss = ValidationLoss(Model, _val, _config, _device);
        return (loss, Math.Exp(loss), loss / Math.Log(2) / _val.BytesPerToken);
    }

    /// <summary>
    /// The validation loss a run of <paramref name="c"/> reports (nats/token over its first EvalBatches windows of
    /// BatchSize × ContextLength), for any model: also one trained elsewhere and imported (interop/python/train.py
    /// reports the same quantity on the same windows). Leaves the model in eval mode.
    /// </summary>
    public static double ValidationLoss(StagFormerModel model, IEvalSource val, TrainConfig c, Device device)
    {
        model.eval();
        double nll = 0; long count = 0;
        using var ng = torch.no_grad();
        foreach (var (x, y) in val.Windows(c.BatchSize, c.ContextLength, c.EvalBatches, device))
        {
            using var scope = torch.NewDisposeScope();
            var logits = model.forward(new ModelInput(x)).Logits;
            nll += nn.functional.cross_entropy(logits.view(-1, logits.shape[^1]), y.reshape(-1), reduction: nn.Reduction.Sum).item<float>();
            count += y.NumberOfElements;
            x.Dispose(); y.Dispose();
        }
        return nll / Math.Max(1, count);
    }

    /// <summary>What each cross-attention layer adds, on the first validation window (<see cref="CrossOutputDiagnostic"/>); no RNG is drawn.</summary>
    IReadOnlyList<CrossOutputStats> DiagnoseCrossAttention()
    {
        using var scope = torch.NewDisposeScope();
        var (x, y) = _val!.Windows(_config.BatchSize, _config.ContextLength, 1, _device).First();
        return CrossOutputDiagnostic.Measure(Model, x, y);
    }

    public void Dispose() { Model.Dispose(); Optimizer.Dispose(); }
}
