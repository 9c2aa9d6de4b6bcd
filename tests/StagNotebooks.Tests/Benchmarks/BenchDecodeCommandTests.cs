using System.Diagnostics;

namespace StagNotebooks.Tests.Benchmarks;

/// <summary>`stag bench decode` end to end, with few steps (what it prints is checked, never how fast).</summary>
public class BenchDecodeCommandTests
{
    [Fact]
    public async Task Bench_decode_runs_to_the_end_prints_the_floor_it_measured_and_writes_its_json()
    {
        using var dir = new TestPaths.TempDir();
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { TestPaths.Stag, "bench", "decode", "--shape", "cpu-h", "--steps", "3", "--warmup", "1", "--rounds", "2", "--out", dir.File("decode.json") })
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        var stdout = await p.StandardOutput.ReadToEndAsync();
        var errors = await stderr;
        await p.WaitForExitAsync();
        Assert.True(p.ExitCode == 0, errors + stdout);   // it used to stop at the JSON (a ratio bound can be infinite) and at the table's "[95%]" header (Spectre markup)
        Assert.Contains("floor = calls/step × the cost of one call + bytes read ÷ stream bandwidth, measured here: 1 call = ", stdout);
        Assert.True(File.Exists(dir.File("decode.json")));
    }
}
