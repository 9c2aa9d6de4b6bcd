using System.Diagnostics;
using System.Text;
using System.Text.Json;
using StagNotebooks.Data;
using StagNotebooks.IO;

namespace StagNotebooks.Benchmarks;

/// <param name="Case">"clean" or "bad-lines".</param>
/// <param name="MegabytesPerSecond">file bytes / the median of the repeats' seconds.</param>
/// <param name="BestMegabytesPerSecond">file bytes / the fastest repeat's seconds (less disturbed by other jobs on a shared machine).</param>
/// <param name="RelativeToClean">MB/s (median) over the clean shard's; <paramref name="BestRelativeToClean"/> the same for the fastest repeats.</param>
public sealed record BadLinesBenchResult(string Case, long Lines, long BadLines, long Bytes, int Repeats, double MedianSeconds, double MegabytesPerSecond,
                                         double RelativeToClean, double BestMegabytesPerSecond, double BestRelativeToClean);

/// <summary>
/// `stag bench data --cases bad-lines`: does locating every bad line cost read speed? Two shards of the same
/// number of Pile-format lines (sentences of the bundled Brown corpus), one clean and one with <c>bad</c> lines of
/// every kind spread evenly, are read by <see cref="PileReader"/> with a <see cref="RejectsFile"/> taking every bad
/// line — the reading half of <c>stag data prepare</c>, without the tokenizer, whose cost per good record is the same
/// in both. The two are read alternately, <c>repeats</c> times each; the MB/s of the median and of the fastest
/// repeat are reported. Before any
/// timing counts, the dirty shard's rejects file must list exactly the injected line numbers and the reader must
/// return every other line as a record; otherwise the benchmark fails.
/// </summary>
public static class BadLinesBenchmark
{
    /// <summary>The bad lines injected, in turn: one of each per-line kind of <see cref="BadLine"/>.</summary>
    static readonly Func<byte[], byte[]>[] Spoilers =
    {
        good => good[..^2],                                                            // invalid JSON: cut short
        _ => "{\"meta\": {\"pile_set_name\": \"news\"}}"u8.ToArray(),                // missing "text"
        _ => "{\"text\": 12345, \"meta\": {\"pile_set_name\": \"news\"}}"u8.ToArray(), // "text" not a string
        good => good[..12].Concat(new byte[] { 0xFF }).Concat(good[12..]).ToArray(),  // invalid UTF-8
        _ => "[\"not\", \"an\", \"object\"]"u8.ToArray(),                              // not a JSON object
    };

    public static IReadOnlyList<BadLinesBenchResult> Run(long lines = 1_000_000, int bad = 1000, int repeats = 3, Action<string>? log = null)
    {
        if (lines < 1 || bad < 0 || bad > lines) throw new ArgumentException($"bench bad-lines: need 0 ≤ bad ({bad}) ≤ lines ({lines}) and lines ≥ 1");
        if (repeats < 1) throw new ArgumentException($"bench bad-lines: repeats must be ≥ 1 (got {repeats})");
        var tmp = Path.Combine(Path.GetTempPath(), "stag-bench-bad-lines-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(tmp);
        try
        {
            var clean = Path.Combine(tmp, "clean.jsonl");
            var dirty = Path.Combine(tmp, "bad-lines.jsonl");
            var badAt = BadLineNumbers(lines, bad);
            Generate(clean, dirty, lines, badAt);
            log?.Invoke($"bad-lines: {lines:N0} lines, {new FileInfo(clean).Length / 1e6:F1} MB clean and {new FileInfo(dirty).Length / 1e6:F1} MB with {bad:N0} bad lines");

            Verify(dirty, Path.Combine(tmp, "rejects.jsonl"), lines, badAt);   // also warms the path up outside the clock
            var seconds = new Dictionary<string, List<double>> { ["clean"] = new(), ["bad-lines"] = new() };
            for (int r = 0; r < repeats; r++)
                foreach (var (name, file) in new[] { ("clean", clean), ("bad-lines", dirty) })
                    seconds[name].Add(TimeRead(file, Path.Combine(tmp, name + ".rejects.jsonl")));

            var results = new List<BadLinesBenchResult>();
            double cleanMbs = 0, cleanBest = 0;
            foreach (var (name, file, nBad) in new[] { ("clean", clean, 0L), ("bad-lines", dirty, (long)bad) })
            {
                long bytes = new FileInfo(file).Length;
                var sorted = seconds[name].Order().ToList();
                double median = sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
                double mbs = bytes / 1e6 / median, best = bytes / 1e6 / sorted[0];
                if (name == "clean") { cleanMbs = mbs; cleanBest = best; }
                results.Add(new BadLinesBenchResult(name, lines, nBad, bytes, repeats, median, mbs, mbs / cleanMbs, best, best / cleanBest));
                log?.Invoke($"{name,-10} median {mbs,6:F1} MB/s (×{mbs / cleanMbs:F3} of clean), fastest {best,6:F1} MB/s (×{best / cleanBest:F3}); " +
                            $"{repeats} repeats: {string.Join(", ", seconds[name].Select(s => s.ToString("F2")))} s");
            }
            return results;
        }
        finally { Directory.Delete(tmp, true); }
    }

    /// <summary>1-based line numbers of the bad lines: spread evenly, the first half a step in.</summary>
    internal static long[] BadLineNumbers(long lines, int bad) =>
        Enumerable.Range(0, bad).Select(j => (long)((j + 0.5) * lines / bad) + 1).ToArray();

    /// <summary>Writes both shards: the same lines, except that the dirty one has a spoiled line at each of <paramref name="badAt"/>.</summary>
    static void Generate(string clean, string dirty, long lines, long[] badAt)
    {
        var corpus = new PileReader(new[] { RepoPaths.BrownSplit("val") }).Read().ToList();
        var samples = corpus
            .SelectMany(d => d.Text.Split(". ").Where(s => s.Length >= 20).Select(s => JsonSerializer.SerializeToUtf8Bytes(new { text = s + ".", meta = new { pile_set_name = d.Subset } })))
            .ToArray();
        using var c = new BufferedStream(File.Create(clean), 1 << 20);
        using var d = new BufferedStream(File.Create(dirty), 1 << 20);
        int next = 0;
        for (long line = 1; line <= lines; line++)
        {
            var good = samples[(line - 1) % samples.Length];
            c.Write(good); c.WriteByte((byte)'\n');
            if (next < badAt.Length && badAt[next] == line) { d.Write(Spoilers[next % Spoilers.Length](good)); next++; }
            else d.Write(good);
            d.WriteByte((byte)'\n');
        }
    }

    static double TimeRead(string file, string rejectsPath)
    {
        var sw = Stopwatch.StartNew();
        using var rejects = new RejectsFile(rejectsPath);
        var reader = new PileReader(new[] { file }, onBad: rejects.Add);
        long chars = 0;
        foreach (var r in reader.Read()) chars += r.Text.Length;
        rejects.Complete();
        double s = sw.Elapsed.TotalSeconds;
        if (chars == 0) throw new InvalidDataException($"{file}: no text read");
        return s;
    }

    static void Verify(string dirty, string rejectsPath, long lines, long[] badAt)
    {
        using (var rejects = new RejectsFile(rejectsPath))
        {
            var reader = new PileReader(new[] { dirty }, onBad: rejects.Add);
            long records = reader.Read().LongCount();
            rejects.Complete();
            if (records != lines - badAt.Length)
                throw new InvalidDataException($"bench bad-lines: {dirty} gave {records:N0} records, expected {lines - badAt.Length:N0}");
        }
        var listed = badAt.Length == 0 ? Array.Empty<long>() : RejectsFile.Read(rejectsPath).Select(b => b.Line).ToArray();
        if (!listed.SequenceEqual(badAt))
            throw new InvalidDataException($"bench bad-lines: {rejectsPath} lists {listed.Length:N0} lines, not the {badAt.Length:N0} injected ones");
    }
}
