using System.Diagnostics;
using StagNotebooks.Data;
using StagNotebooks.IO;

namespace StagNotebooks.Benchmarks;

public sealed record DataBenchResult(string Tokenizer, int Threads, double Seconds, double MegabytesPerSecond, double SpeedupOverOneThread, long Tokens);

/// <summary>
/// `stag bench data`: raw-text MB/s through the whole preparation path (read, decompress, tokenize, write a token
/// file) on one thread and on all cores, per tokenizer, measured in one run on the bundled train split.
/// </summary>
public static class DataBenchmark
{
    public static IReadOnlyList<DataBenchResult> Run(IReadOnlyList<string> tokenizers, IReadOnlyList<string> inputs, Action<string>? log = null)
    {
        var results = new List<DataBenchResult>();
        var tmp = Path.Combine(Path.GetTempPath(), "stag-bench-data-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            foreach (var name in tokenizers)
            {
                // Load the tokenizer and JIT the whole path outside the clock, on the smallest bundled split.
                PackedDataset.Prepare(new Dictionary<string, IReadOnlyList<string>> { ["train"] = new[] { RepoPaths.BrownSplit("val") } }, name, Path.Combine(tmp, "warmup-" + name));
                double one = 0;
                foreach (int threads in new[] { 1, Environment.ProcessorCount }.Distinct())
                {
                    var folder = Path.Combine(tmp, $"{name}-{threads}");
                    var sw = Stopwatch.StartNew();
                    var ds = PackedDataset.Prepare(new Dictionary<string, IReadOnlyList<string>> { ["train"] = inputs }, name, folder, threads: threads);
                    double s = sw.Elapsed.TotalSeconds;
                    var m = ds.Manifest.Splits["train"];
                    double mbs = m.Bytes / 1e6 / s;
                    if (threads == 1) one = mbs;
                    var r = new DataBenchResult(name, threads, s, mbs, mbs / one, m.Tokens);
                    results.Add(r);
                    log?.Invoke($"{name,-12} {threads} thread(s): {mbs,6:F2} MB/s ({m.Bytes / 1e6:F1} MB in {s:F2} s, {m.Tokens:N0} tokens), ×{r.SpeedupOverOneThread:F2}");
                    Directory.Delete(folder, true);
                }
            }
        }
        finally { if (Directory.Exists(tmp)) Directory.Delete(tmp, true); }
        return results;
    }
}
