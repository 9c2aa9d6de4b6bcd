using System.Globalization;
using System.Text.Json;
using StagNotebooks.IO;

namespace StagNotebooks.Training;

/// <summary>One row of a run's metrics. Validation fields are set on evaluation steps only; Mfu needs a measured roofline.</summary>
public sealed record StepMetrics(
    int Step, long Tokens, double Loss, double LearningRate, double GradNorm, double TokensPerSecond, double? Mfu, double ElapsedSeconds,
    double? ValLoss = null, double? ValPerplexity = null, double? ValBitsPerByte = null);

/// <summary>
/// Appends metrics to metrics.csv and metrics.jsonl as training goes (flushed per row, so a crash loses nothing
/// written). On resume, rows after the checkpoint's step are dropped: the resumed run writes them again.
/// </summary>
public sealed class MetricsLog
{
    public const string CsvHeader = "step,tokens,loss,lr,grad_norm,tokens_per_s,mfu,elapsed_s,val_loss,val_ppl,val_bpb";
    readonly string _csv, _jsonl;

    public MetricsLog(string folder)
    {
        _csv = Path.Combine(folder, "metrics.csv");
        _jsonl = Path.Combine(folder, "metrics.jsonl");
        if (!File.Exists(_csv)) File.WriteAllText(_csv, CsvHeader + "\n");
        if (!File.Exists(_jsonl)) File.WriteAllText(_jsonl, "");
    }

    /// <summary>Appends one row; steps must come in order (a repeated or skipped step is a bug, refused here).</summary>
    public void Append(StepMetrics m)
    {
        if (_lastStep is int prev && m.Step != prev + 1)
            throw new InvalidOperationException($"{_jsonl}: step {m.Step} appended after step {prev} (one row per step)");
        File.AppendAllText(_csv, CsvLine(m));
        File.AppendAllText(_jsonl, JsonSerializer.Serialize(m) + "\n");
        _lastStep = m.Step;
    }

    int? _lastStep;

    static string CsvLine(StepMetrics m)
    {
        static string F(double? v) => v is double d ? d.ToString("R", CultureInfo.InvariantCulture) : "";
        return string.Join(",", m.Step.ToString(CultureInfo.InvariantCulture), m.Tokens.ToString(CultureInfo.InvariantCulture),
            F(m.Loss), F(m.LearningRate), F(m.GradNorm), F(m.TokensPerSecond), F(m.Mfu), F(m.ElapsedSeconds),
            F(m.ValLoss), F(m.ValPerplexity), F(m.ValBitsPerByte)) + "\n";
    }

    /// <summary>Keeps only rows with Step ≤ <paramref name="step"/> (both files rewritten atomically).</summary>
    public void TruncateAfter(int step)
    {
        var rows = Read().Where(r => r.Step <= step).ToList();
        _lastStep = rows.Count > 0 ? rows[^1].Step : 0;
        AtomicFile.WriteAllText(_jsonl, string.Concat(rows.Select(r => JsonSerializer.Serialize(r) + "\n")));
        AtomicFile.WriteAllText(_csv, CsvHeader + "\n" + string.Concat(rows.Select(CsvLine)));
    }

    public IReadOnlyList<StepMetrics> Read() => ReadFrom(Path.GetDirectoryName(_jsonl)!);

    /// <summary>
    /// Reads metrics.jsonl of a run folder; a corrupt line is an error naming the file and line, except an
    /// unterminated last line (a write cut by a kill), which is left out: the resumed run writes that step again.
    /// </summary>
    public static IReadOnlyList<StepMetrics> ReadFrom(string folder)
    {
        var path = Path.Combine(folder, "metrics.jsonl");
        if (!File.Exists(path)) return Array.Empty<StepMetrics>();
        var text = File.ReadAllText(path);
        var lines = text.Split('\n');
        var rows = new List<StepMetrics>();
        for (int i = 0; i < lines.Length; i++)
        {
            var line = lines[i];
            if (string.IsNullOrWhiteSpace(line)) continue;
            bool torn = i == lines.Length - 1;   // no newline after it: the write never finished
            try { rows.Add(JsonSerializer.Deserialize<StepMetrics>(line) ?? throw new JsonException("null row")); }
            catch (JsonException) when (torn) { }
            catch (JsonException e) { throw new InvalidDataException($"{path}, line {i + 1}: {e.Message}"); }
        }
        return rows;
    }
}
