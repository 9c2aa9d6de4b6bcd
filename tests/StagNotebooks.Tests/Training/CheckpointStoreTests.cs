using StagNotebooks.Model;
using StagNotebooks.Tests.Model;
using StagNotebooks.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace StagNotebooks.Tests.Training;

/// <summary>Crash-safe checkpoints: pointers, fallback from damaged checkpoints, a full disk, metrics after a resume.</summary>
[Collection("CheckpointHooks")]
public class CheckpointStoreTests
{
    static TrainConfig Smoke(int steps = 40) => TrainerTests.Smoke(steps);

    static RunDirectory Run(string runs, string name) => RunDirectory.Open(runs, name, Smoke(), "counting-31");

    static string Newest(RunDirectory run) => Checkpoint.Resolve(run.LastCheckpoint);

    [Fact]
    public void Saves_go_to_step_folders_named_by_last_and_best_pointers_and_best_loads_as_a_checkpoint()
    {
        using var dir = new TestPaths.TempDir();
        var r = TrainerTests.Train(dir.Path, Smoke(), "layout");
        var run = r.Run;
        Assert.True(File.Exists(run.LastCheckpoint) && File.Exists(run.BestCheckpoint));   // pointers, not folders
        Assert.Equal(new[] { "step-00000040", "step-00000030" }, File.ReadAllLines(run.LastCheckpoint));
        var folders = Directory.GetDirectories(run.Checkpoints).Select(Path.GetFileName).Order().ToArray();
        var bestName = File.ReadAllLines(run.BestCheckpoint)[0];
        Assert.Equal(new[] { "step-00000030", "step-00000040" }.Union(new[] { bestName }).Order().ToArray(), folders);   // nothing else kept
        using var best = Checkpoint.Load(run.BestCheckpoint);      // what `stag eval --checkpoint .../checkpoints/best` does
        Assert.Equal(Smoke().Model, best.Config);
        Assert.True(File.Exists(Path.Combine(run.Checkpoints, bestName, Checkpoint.ManifestFile)));
        // The run's own folder (`stag eval --checkpoint runs/<run>`) is its last checkpoint, not its training config.
        Assert.Equal(Path.Combine(run.Checkpoints, "step-00000040"), Checkpoint.Resolve(run.Path));
        using var last = Checkpoint.Load(run.Path);
        Assert.Equal(Smoke().Model, last.Config);
    }

    [Theory]
    [InlineData("truncate", "weights.bin", "truncated")]
    [InlineData("corrupt", "optimizer.bin", "corrupt")]
    [InlineData("corrupt", "state.json", "corrupt")]
    [InlineData("delete", "tensors.json", "missing")]
    public void A_damaged_newest_checkpoint_is_reported_kept_and_resume_falls_back_to_the_previous(string damage, string file, string word)
    {
        using var dir = new TestPaths.TempDir();
        var straight = TrainerTests.Train(dir.Path, Smoke(), "straight");
        using var cts = new CancellationTokenSource();
        TrainerTests.Train(dir.Path, Smoke(), "damaged", (p, _) => { if (p.Step == 35) cts.Cancel(); }, cts.Token);
        var run = Run(dir.Path, "damaged");
        var newest = Newest(run);
        Assert.EndsWith("step-00000030", newest);
        var path = Path.Combine(newest, file);
        switch (damage)
        {
            case "truncate": { var b = File.ReadAllBytes(path); File.WriteAllBytes(path, b[..(b.Length / 2)]); break; }
            case "corrupt": { var b = File.ReadAllBytes(path); b[b.Length / 2] ^= 0x5a; File.WriteAllBytes(path, b); break; }
            default: File.Delete(path); break;
        }
        var log = new List<string>();
        var runAgain = RunDirectory.Open(dir.Path, "damaged", Smoke(), "counting-31");
        using var trainer = new Trainer(runAgain, new CountingBatches(31), new CountingBatches(31), torch.CPU) { Log = log.Add };
        var resumed = trainer.Run();
        Assert.Contains(log, l => l.Contains(path) && l.Contains(word) && l.Contains("trying the previous one"));
        Assert.Contains(log, l => l.StartsWith("resumed from the previous checkpoint, step 20"));
        Assert.True(Directory.Exists(newest + CheckpointStore.Unreadable));       // never deleted
        Assert.Equal(straight.Metrics.Select(m => m.Loss), resumed.Metrics.Select(m => m.Loss));
        Assert.Equal(Enumerable.Range(1, 40), resumed.Metrics.Select(m => m.Step));
    }

    [Fact]
    public void A_checkpoint_of_another_config_is_named_and_not_loaded()
    {
        using var dir = new TestPaths.TempDir();
        TrainerTests.Train(dir.Path, Smoke(10), "cfg");
        var run = RunDirectory.Open(dir.Path, "cfg", Smoke(10), "counting-31");
        var folder = Newest(run);
        var cfgPath = Path.Combine(folder, Checkpoint.ConfigFile);
        // A hand-edited config with a consistent manifest: only the config check can catch it.
        File.WriteAllText(cfgPath, (Smoke().Model with { FfnHidden = 48 }).ToJson());
        File.Delete(Path.Combine(folder, Checkpoint.ManifestFile));
        using var probe = new Trainer(run, new CountingBatches(31), null, torch.CPU);
        var e = Assert.Throws<CheckpointException>(() => TrainingCheckpoint.Load(run.LastCheckpoint, probe.Model, probe.Optimizer));
        Assert.StartsWith($"{cfgPath}: the checkpoint's model config differs", e.Message);
    }

    [Fact]
    public void A_full_disk_stops_training_with_a_clear_message_and_keeps_the_last_good_checkpoint()
    {
        using var dir = new TestPaths.TempDir();
        int saves = 0;
        CheckpointStore.BeforeCommit = _ => { if (++saves == 3) throw new IOException("No space left on device"); };
        CheckpointWriteException e;
        try { e = Assert.Throws<CheckpointWriteException>(() => TrainerTests.Train(dir.Path, Smoke(), "full")); }
        finally { CheckpointStore.BeforeCommit = null; }
        var run = Run(dir.Path, "full");
        Assert.Equal($"could not write the checkpoint of step 30 in {run.Checkpoints}: No space left on device. Training stopped; " +
                     $"the last good checkpoint ({Path.Combine(run.Checkpoints, "step-00000020")}) is intact. " +
                     "Free some space (or fix the folder) and run the same command to resume.", e.Message);
        Assert.DoesNotContain(Directory.GetDirectories(run.Checkpoints), d => d.Contains(".tmp-"));   // the half-written one is gone
        using (var probe = new Trainer(run, new CountingBatches(31), null, torch.CPU))
            Assert.Equal(20, TrainingCheckpoint.Load(run.LastCheckpoint, probe.Model, probe.Optimizer).Step);
        var finished = TrainerTests.Train(dir.Path, Smoke(), "full");
        Assert.Equal(40, finished.Steps);
        Assert.Equal(Enumerable.Range(1, 40), finished.Metrics.Select(m => m.Step));
    }

    [Fact]
    public void Start_up_removes_only_what_no_pointer_names_and_migrates_old_last_and_best_folders()
    {
        using var dir = new TestPaths.TempDir();
        var ck = dir.File("checkpoints");
        Directory.CreateDirectory(Path.Combine(ck, "step-00000010"));
        Directory.CreateDirectory(Path.Combine(ck, "step-00000020"));
        Directory.CreateDirectory(Path.Combine(ck, "step-00000030"));                 // renamed into place, pointer never updated
        Directory.CreateDirectory(Path.Combine(ck, "step-00000040.tmp-abcd1234"));    // killed while writing
        Directory.CreateDirectory(Path.Combine(ck, "step-00000005.unreadable"));
        File.WriteAllText(Path.Combine(ck, "last"), "step-00000020\nstep-00000010\n");
        File.WriteAllText(Path.Combine(ck, "last.tmp-0000aaaa"), "step-00000030\n");
        var removed = new CheckpointStore(ck).Recover();
        Assert.Equal(new[] { "last.tmp-0000aaaa", "step-00000030", "step-00000040.tmp-abcd1234" }, removed.Order());
        Assert.Equal(new[] { "step-00000005.unreadable", "step-00000010", "step-00000020" },
                     Directory.GetDirectories(ck).Select(Path.GetFileName).Order());

        using var dir2 = new TestPaths.TempDir();
        var old = Path.Combine(dir2.Path, "last");
        Checkpoint.Save(Variants.Model(Variants.Tiny), old);                           // an old run's checkpoints/last folder
        File.WriteAllText(Path.Combine(old, TrainingCheckpoint.StateFile), "{\"Step\": 7, \"Tokens\": 0, \"ElapsedSeconds\": 0}");
        new CheckpointStore(dir2.Path).Recover();
        Assert.True(File.Exists(old));
        Assert.EndsWith("step-00000007-last", Checkpoint.Resolve(old));
        using var m = Checkpoint.Load(old);
    }

    [Fact]
    public void After_a_resume_metrics_have_exactly_one_row_per_step_even_after_a_torn_line()
    {
        using var dir = new TestPaths.TempDir();
        using var cts = new CancellationTokenSource();
        TrainerTests.Train(dir.Path, Smoke(), "torn", (p, _) => { if (p.Step == 27) cts.Cancel(); }, cts.Token);
        var run = Run(dir.Path, "torn");
        File.AppendAllText(Path.Combine(run.Path, "metrics.jsonl"), "{\"Step\":28,\"Tok");   // a kill mid-write
        File.AppendAllText(Path.Combine(run.Path, "metrics.csv"), "28,1");
        var r = TrainerTests.Train(dir.Path, Smoke(), "torn");
        Assert.Equal(Enumerable.Range(1, 40), r.Metrics.Select(m => m.Step));
        var csvSteps = File.ReadAllLines(Path.Combine(run.Path, "metrics.csv")).Skip(1).Select(l => int.Parse(l.Split(',')[0]));
        Assert.Equal(Enumerable.Range(1, 40), csvSteps);
    }
}
