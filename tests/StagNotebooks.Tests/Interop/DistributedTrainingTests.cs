using System.Diagnostics;
using StagNotebooks.Cli;
using StagNotebooks.Cli.Commands;
using StagNotebooks.Data;
using StagNotebooks.Model;
using StagNotebooks.Training;
using StagNotebooks.Workbench;
using TorchSharp;
using StagNotebooks.Experiments;

namespace StagNotebooks.Tests.Interop;

/// <summary>
/// Past one machine: interop/python/train.py under torchrun, two gloo ranks on the loopback, on the workbench's packed
/// Brown data at smoke. Two processes train the same losses as one with the same global batch; the final checkpoint,
/// imported with `stag import`, evaluates in C# to the validation loss PyTorch reported; a kill -9 of one rank, then a
/// relaunch, resumes from the last checkpoint with an uninterrupted run's losses. Smoke at cpu-small's learning rates
/// (<see cref="TrainingParityTests.StableRates"/>: at smoke's own, a loss spike amplifies rounding differences). Needs a python3 with torch (see
/// <see cref="PythonTorch"/>): mandatory when CI=true.
/// </summary>
public class DistributedTrainingTests : IClassFixture<DistributedTrainingTests.Runs>
{
    public const int Steps = 36, Interval = 12;

    /// <summary>The one-process and the two-process runs, trained once for the class (on first use).</summary>
    public sealed class Runs : IDisposable
    {
        readonly TestPaths.TempDir _dir = new();
        readonly object _gate = new();
        public string Folder => _dir.Path;
        public PackedDataset Dataset { get; } = ExperimentRuns.Data();
        public TrainConfig Config { get; }
        public string ConfigPath => _dir.File("config.json");
        public string Data => Dataset.Folder;
        public string OneOut => _dir.File("one");
        public string TwoOut => _dir.File("two");
        public double OneSeconds { get; private set; }
        public double TwoSeconds { get; private set; }
        bool _done;

        public Runs() => Config = ExperimentRuns.Config("smoke", "separate-2xh", Dataset, seed: 3,
            overrides: TrainingParityTests.StableRates.Concat(new[] { $"MaxSteps={Steps}", $"CheckpointEvery={Interval}", $"EvalEvery={Interval}" }));

        public void Train(string python)
        {
            lock (_gate)
            {
                if (_done) return;
                File.WriteAllText(ConfigPath, Config.ToJson());
                var clock = Stopwatch.StartNew();
                using (var one = PyTraining.Start(python, 1, ConfigPath, Data, OneOut)) one.Succeed();
                OneSeconds = clock.Elapsed.TotalSeconds;
                clock.Restart();
                using (var two = PyTraining.Start(python, 2, ConfigPath, Data, TwoOut)) two.Succeed();
                TwoSeconds = clock.Elapsed.TotalSeconds;
                _done = true;
            }
        }

        public void Dispose() => _dir.Dispose();
    }

    readonly Runs _runs;
    public DistributedTrainingTests(Runs runs) => _runs = runs;

    static double Relative(double a, double b) => Math.Abs(a - b) / Math.Max(1e-12, Math.Abs(b));

    [Fact]
    public void Two_gloo_processes_train_the_same_losses_as_one_process_with_the_same_global_batch()
    {
        if (PythonTorch.Require(nameof(Two_gloo_processes_train_the_same_losses_as_one_process_with_the_same_global_batch)) is not { } python) return;
        _runs.Train(python);
        var one = PyTraining.ReadMetrics(_runs.OneOut);
        var two = PyTraining.ReadMetrics(_runs.TwoOut);
        Assert.Equal(Enumerable.Range(1, Steps), one.Select(r => r.Step));
        Assert.Equal(Enumerable.Range(1, Steps), two.Select(r => r.Step));
        Assert.All(one, r => Assert.Equal(1, r.World));
        Assert.All(two, r => Assert.Equal(2, r.World));
        // Each rank trained on its own half of every global batch: the two ranks' losses differ, and their mean is the step's.
        Assert.All(two, r => Assert.True(r.RankLosses.Length == 2 && r.RankLosses[0] != r.RankLosses[1], $"step {r.Step}: rank losses {string.Join(", ", r.RankLosses)}"));
        Assert.All(two, r => Assert.Equal(r.Loss, r.RankLosses.Average(), 12));
        double worst = one.Zip(two).Max(p => Relative(p.Second.Loss, p.First.Loss));
        double worstVal = one.Zip(two).Where(p => p.First.ValLoss != null).Max(p => Relative(p.Second.ValLoss!.Value, p.First.ValLoss!.Value));
        Console.Error.WriteLine($"torchrun 2 gloo ranks vs 1 process, {Steps} smoke steps: max relative loss difference {worst:G3}, " +
                                $"validation {worstVal:G3} (1 process {_runs.OneSeconds:F1} s, 2 processes {_runs.TwoSeconds:F1} s)");
        Assert.True(worst <= 1e-5, $"training losses differ by {worst:G3} relative");
        Assert.True(worstVal <= 1e-5, $"validation losses differ by {worstVal:G3} relative");
        Assert.True(one[^1].Loss < one[0].Loss - 0.5, $"the loss did not fall ({one[0].Loss:F3} → {one[^1].Loss:F3}): nothing was trained");
    }

    [Fact]
    public void The_final_checkpoint_imported_with_stag_import_evaluates_in_CSharp_to_the_loss_PyTorch_reported()
    {
        if (PythonTorch.Require(nameof(The_final_checkpoint_imported_with_stag_import_evaluates_in_CSharp_to_the_loss_PyTorch_reported)) is not { } python) return;
        _runs.Train(python);
        using var dir = new TestPaths.TempDir();
        var file = Path.Combine(_runs.TwoOut, "model.safetensors");
        var import = new ImportCommand();
        Assert.Equal(0, import.Run(CommandLine.Parse(new[] { file, "--out", dir.File("imported") }, ((ICommand)import).Switches)));

        var model = Checkpoint.Load(dir.File("imported"));
        Assert.Equal(_runs.Config.Model, model.Config);
        var data = _runs.Dataset;
        using var val = data.Open("val");
        double ours = Trainer.ValidationLoss(model, new SequentialWindows(val, data.Manifest.Splits["val"].BytesPerToken), _runs.Config, torch.CPU);
        double theirs = PyTraining.ReadMetrics(_runs.TwoOut)[^1].ValLoss!.Value;
        double rel = Relative(ours, theirs);
        Console.Error.WriteLine($"imported torchrun checkpoint: validation loss C# {ours:F7}, PyTorch {theirs:F7}, relative difference {rel:G3}");
        Assert.True(rel <= 1e-5, $"C# evaluates the imported model to {ours}, PyTorch reported {theirs} ({rel:G3} relative)");
    }

    [Fact]
    public void A_kill_9_of_one_rank_then_a_relaunch_resumes_from_the_last_checkpoint_with_the_uninterrupted_losses()
    {
        if (PythonTorch.Require(nameof(A_kill_9_of_one_rank_then_a_relaunch_resumes_from_the_last_checkpoint_with_the_uninterrupted_losses)) is not { } python) return;
        _runs.Train(python);
        using var dir = new TestPaths.TempDir();
        var outDir = dir.File("killed");
        var clock = Stopwatch.StartNew();
        int killedAt;
        // Slow steps (a test hook sleeps after each optimizer step) so the kill lands between the first and second checkpoints.
        using (var run = PyTraining.Start(python, 2, _runs.ConfigPath, _runs.Data, outDir, env: new Dictionary<string, string> { ["STAG_TRAIN_TEST_STEP_SLEEP"] = "0.25" }))
        {
            while (!run.Process.HasExited && PyTraining.ReadMetrics(outDir).Count < Interval + 3) Thread.Sleep(20);
            Assert.False(run.Process.HasExited, $"the run ended before the kill:\n{run.Output}");
            var ranks = run.Ranks();
            Assert.True(ranks.ContainsKey(0) && ranks.ContainsKey(1), $"torchrun's ranks not found (children of {run.Process.Id}): {string.Join(", ", ranks)}");
            killedAt = PyTraining.ReadMetrics(outDir).Count;
            Process.GetProcessById(ranks[0]).Kill();   // SIGKILL, the rank that writes checkpoints and metrics
            int code = run.Wait(120);
            Assert.True(code != 0, $"torchrun exited 0 after a rank was killed:\n{run.Output}");
        }
        Assert.False(File.Exists(Path.Combine(outDir, "done.json")));
        Assert.Equal($"step-{Interval}", File.ReadAllText(Path.Combine(outDir, "checkpoints", "last")).Trim());

        using (var again = PyTraining.Start(python, 2, _runs.ConfigPath, _runs.Data, outDir))
        {
            again.Succeed();
            Assert.Contains($"resuming from step {Interval}", again.Output);
        }
        var resumed = PyTraining.ReadMetrics(outDir);
        var reference = PyTraining.ReadMetrics(_runs.TwoOut);
        Assert.Equal(Enumerable.Range(1, Steps), resumed.Select(r => r.Step));
        double worst = resumed.Zip(reference).Max(p => Relative(p.First.Loss, p.Second.Loss));
        int exact = resumed.Zip(reference).Count(p => p.First.Loss == p.Second.Loss && p.First.ValLoss == p.Second.ValLoss);
        Console.Error.WriteLine($"kill -9 of rank 0 after step {killedAt}, relaunch from step {Interval}: {exact}/{Steps} steps identical to the uninterrupted run, " +
                                $"max relative difference {worst:G3} ({clock.Elapsed.TotalSeconds:F1} s)");
        Assert.True(exact == Steps, $"only {exact} of {Steps} steps are bit-identical (max relative difference {worst:G3})");
        Assert.True(File.Exists(Path.Combine(outDir, "done.json")));
    }
}
