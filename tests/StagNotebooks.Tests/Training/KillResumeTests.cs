using System.Diagnostics;
using System.Text.Json;
using StagNotebooks.Model;
using StagNotebooks.Training;
using Xunit.Abstractions;

namespace StagNotebooks.Tests.Training;

/// <summary>
/// Fault injection that really kills: `stag train` (smoke, a checkpoint every 4 steps) runs as a child process and is
/// SIGKILLed at random moments 20 times — a test hook widens the window inside checkpoint commits — and resumed each
/// time. Every step's loss must equal an uninterrupted run's bit for bit, the final weights must be identical, and
/// (since a silent restart from step 0 would give the same numbers) each kill may cost at most one checkpoint interval.
/// </summary>
public class KillResumeTests(ITestOutputHelper output)
{
    const int Steps = 200, Interval = 4, Kills = 20;
    static readonly string[] Args = { "train", "--preset", "smoke", "--threads", "1", "--set", $"MaxSteps={Steps}",
                                      "--set", $"CheckpointEvery={Interval}", "--set", "EvalEvery=40" };

    static Process Start(string runs, string stepLog)
    {
        var dll = TestPaths.Stag;
        Assert.True(File.Exists(dll), $"{dll} not built (dotnet build StagNotebooks.sln -c Release)");
        var psi = new ProcessStartInfo("dotnet") { WorkingDirectory = TestPaths.RepoRoot, UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(dll);
        foreach (var a in Args.Concat(new[] { "--runs", runs })) psi.ArgumentList.Add(a);
        psi.Environment["STAG_TEST_STEP_LOG"] = stepLog;
        psi.Environment["STAG_TEST_CHECKPOINT_PAUSE_MS"] = "15";
        var p = Process.Start(psi)!;
        p.OutputDataReceived += (_, _) => { }; p.ErrorDataReceived += (_, _) => { };
        p.BeginOutputReadLine(); p.BeginErrorReadLine();
        return p;
    }

    static List<(int Pid, int Step)> ReadLog(string path) => !File.Exists(path) ? new() :
        File.ReadAllLines(path).Where(l => l.Length > 0).Select(l => l.Split(' ')).Select(a => (int.Parse(a[0]), int.Parse(a[1]))).ToList();

    static string RunFolder(string runs) => Directory.GetDirectories(runs).Single();

    [Fact]
    public void Twenty_SIGKILLs_lose_nothing_and_each_costs_at_most_one_checkpoint_interval()
    {
        using var dir = new TestPaths.TempDir();
        string refRuns = dir.File("ref"), runs = dir.File("killed");

        using (var p = Start(refRuns, dir.File("ref-steps.log"))) { p.WaitForExit(); Assert.Equal(0, p.ExitCode); }

        var rng = new Random(20261202);
        var killedPids = new List<int>();
        int insideCommit = 0;
        while (killedPids.Count < Kills)
        {
            var log = dir.File("steps.log");
            using var p = Start(runs, log);
            // Wait until this launch has executed a random number (1 to Interval + 2) of steps, then kill within the
            // next 0–40 ms: at any phase of a step or of a checkpoint commit (paused 3 × 15 ms by the hook). Counting
            // steps rather than time keeps every launch short whatever the machine's load, so all kills land mid-run.
            int stepsBeforeKill = rng.Next(1, Interval + 3);
            while (!p.HasExited && ReadLog(log).Count(e => e.Pid == p.Id) < stepsBeforeKill) Thread.Sleep(2);
            if (p.HasExited) { Assert.Equal(0, p.ExitCode); break; }   // finished before we could kill it
            Thread.Sleep(rng.Next(0, 40));
            if (p.HasExited) { Assert.Equal(0, p.ExitCode); break; }
            p.Kill(entireProcessTree: true);                        // SIGKILL
            p.WaitForExit();
            killedPids.Add(p.Id);
            var ck = Path.Combine(RunFolder(runs), "checkpoints");
            if (Directory.Exists(ck) && Directory.GetDirectories(ck).Any(d => d.Contains(".tmp-"))) insideCommit++;
        }
        Assert.Equal(Kills, killedPids.Count);   // the run must still have been going at every kill
        using (var p = Start(runs, dir.File("steps.log"))) { p.WaitForExit(); Assert.Equal(0, p.ExitCode); }

        // Bit for bit: every step's loss (and validation loss), and the final weights and optimizer state.
        var want = MetricsLog.ReadFrom(RunFolder(refRuns));
        var got = MetricsLog.ReadFrom(RunFolder(runs));
        Assert.Equal(Enumerable.Range(1, Steps), got.Select(m => m.Step));
        Assert.Equal(want.Select(m => BitConverter.DoubleToInt64Bits(m.Loss)), got.Select(m => BitConverter.DoubleToInt64Bits(m.Loss)));
        Assert.Equal(want.Select(m => m.ValLoss), got.Select(m => m.ValLoss));
        var csvSteps = File.ReadAllLines(Path.Combine(RunFolder(runs), "metrics.csv")).Skip(1).Select(l => int.Parse(l.Split(',')[0]));
        Assert.Equal(Enumerable.Range(1, Steps), csvSteps);
        string refCk = Checkpoint.Resolve(Path.Combine(RunFolder(refRuns), "checkpoints", "last")), ck2 = Checkpoint.Resolve(Path.Combine(RunFolder(runs), "checkpoints", "last"));
        Assert.Equal(File.ReadAllBytes(Path.Combine(refCk, Checkpoint.WeightsFile)), File.ReadAllBytes(Path.Combine(ck2, Checkpoint.WeightsFile)));
        Assert.Equal(File.ReadAllBytes(Path.Combine(refCk, TrainingCheckpoint.OptimizerFile)), File.ReadAllBytes(Path.Combine(ck2, TrainingCheckpoint.OptimizerFile)));

        // Work lost per kill: the last step a killed launch executed minus where the next launch resumed.
        var entries = ReadLog(dir.File("steps.log"));
        var launches = entries.Select(e => e.Pid).Distinct().ToList();
        Assert.Equal(Kills + 1, launches.Count);
        var lost = new List<int>();
        for (int i = 0; i < launches.Count - 1; i++)
        {
            int reached = entries.Where(e => e.Pid == launches[i]).Max(e => e.Step);
            int resumedAt = entries.Where(e => e.Pid == launches[i + 1]).Min(e => e.Step) - 1;
            lost.Add(reached - resumedAt);
            Assert.True(reached - resumedAt <= Interval, $"kill {i + 1}: reached step {reached}, the next launch resumed at {resumedAt} (more than one interval of {Interval} lost)");
        }
        Assert.True(entries.Count <= Steps + Kills * Interval, $"{entries.Count} steps executed for {Steps}");
        output.WriteLine($"{Kills} kills, {insideCommit} inside a checkpoint commit; steps executed {entries.Count} for {Steps}; lost per kill: {string.Join(" ", lost)}");
    }
}

/// <summary>A real file-size limit (ulimit -f) on `stag train`: a clear message and exit code 2, not a signal death or a stack trace.</summary>
public class FileSizeLimitTests
{
    [Fact]
    public void A_file_size_limit_stops_training_with_a_clear_message_and_leaves_no_half_written_checkpoint()
    {
        if (!OperatingSystem.IsLinux()) return;
        using var dir = new TestPaths.TempDir();
        var dll = TestPaths.Stag;
        // The packed corpus is written before training (a fresh clone has none yet): not under the limit under test.
        StagNotebooks.Data.PackedDataset.PrepareBundled("brown-bpe");
        // 400 KiB: the smoke model's weights.bin fits, its optimizer.bin (two moments per weight) does not.
        var psi = new ProcessStartInfo("bash") { WorkingDirectory = TestPaths.RepoRoot, UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "-c", $"ulimit -f 400; exec dotnet '{dll}' train --preset smoke --threads 1 --set CheckpointEvery=5 --runs '{dir.File("runs")}'" })
            psi.ArgumentList.Add(a);
        psi.Environment["DOTNET_EnableWriteXorExecute"] = "0";   // CoreCLR's W^X double mapping needs a file larger than the limit
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        p.WaitForExit();
        var err = stderr.Result;
        Assert.True(p.ExitCode == 2, $"exit {p.ExitCode}\n{err}");
        Assert.Contains("stag train: could not write the checkpoint of step 5 in ", err);
        Assert.Contains("too large", err);                      // EFBIG, in .NET's words
        Assert.Contains("Training stopped; no checkpoint was written before", err);
        Assert.DoesNotContain("   at ", err);   // no stack trace
        var ck = Path.Combine(Directory.GetDirectories(dir.File("runs")).Single(), "checkpoints");
        Assert.Empty(Directory.GetDirectories(ck));   // the half-written folder was removed
    }
}
