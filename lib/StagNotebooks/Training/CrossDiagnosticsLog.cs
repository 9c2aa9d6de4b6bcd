using System.Globalization;
using StagNotebooks.IO;
using StagNotebooks.Model;

namespace StagNotebooks.Training;

/// <summary>One row of cross-diagnostics.csv: <see cref="CrossOutputStats"/> of one cross-attention layer at a step.</summary>
public sealed record CrossDiagnosticsRow(int Step, CrossOutputStats Stats);

/// <summary>
/// runs/&lt;run&gt;/cross-diagnostics.csv: at every validation step of a StagFormer, what each cross-attention layer
/// adds to its stack (<see cref="CrossOutputDiagnostic"/>, on the first validation window). Appended like metrics.csv
/// and, on resume, cut back to the checkpoint's step, so it holds one set of rows per validation step.
/// </summary>
public sealed class CrossDiagnosticsLog
{
    public const string FileName = "cross-diagnostics.csv";
    public const string Header = "step,pass,layer,rms_ratio,constant_share,unigram_correlation";
    readonly string _path;

    public CrossDiagnosticsLog(string folder)
    {
        _path = Path.Combine(folder, FileName);
        if (!File.Exists(_path)) AtomicFile.WriteAllText(_path, Header + "\n");
    }

    public void Append(int step, IEnumerable<CrossOutputStats> stats) =>
        File.AppendAllText(_path, string.Concat(stats.Select(s => Line(new CrossDiagnosticsRow(step, s)))));

    static string Line(CrossDiagnosticsRow r) => string.Join(",", r.Step.ToString(CultureInfo.InvariantCulture), r.Stats.Pass.ToString(CultureInfo.InvariantCulture),
        r.Stats.Layer.ToString(CultureInfo.InvariantCulture), F(r.Stats.RmsRatio), F(r.Stats.ConstantShare), F(r.Stats.UnigramCorrelation)) + "\n";

    static string F(double v) => v.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>Keeps only rows with Step ≤ <paramref name="step"/> (rewritten atomically).</summary>
    public void TruncateAfter(int step)
    {
        var rows = ReadFrom(Path.GetDirectoryName(_path)!).Where(r => r.Step <= step);
        AtomicFile.WriteAllText(_path, Header + "\n" + string.Concat(rows.Select(Line)));
    }

    /// <summary>
    /// The rows of a run folder (none for a baseline or a run trained before the log existed). A malformed line is an
    /// error naming the file and line, except a last line without its newline (a write cut by a kill), which is left out.
    /// </summary>
    public static IReadOnlyList<CrossDiagnosticsRow> ReadFrom(string runFolder)
    {
        var path = Path.Combine(runFolder, FileName);
        if (!File.Exists(path)) return Array.Empty<CrossDiagnosticsRow>();
        var lines = File.ReadAllText(path).Split('\n');
        if (lines[0] != Header) throw new InvalidDataException($"{path}, line 1: header '{lines[0]}', expected '{Header}'");
        var rows = new List<CrossDiagnosticsRow>();
        for (int i = 1; i < lines.Length; i++)
        {
            if (lines[i].Length == 0) continue;
            var f = lines[i].Split(',');
            bool torn = i == lines.Length - 1;
            double D(int k) => double.Parse(f[k], NumberStyles.Float, CultureInfo.InvariantCulture);
            int I(int k) => int.Parse(f[k], NumberStyles.Integer, CultureInfo.InvariantCulture);
            try
            {
                if (f.Length != 6) throw new FormatException($"{f.Length} fields, expected 6");
                rows.Add(new CrossDiagnosticsRow(I(0), new CrossOutputStats(I(1), I(2), D(3), D(4), D(5))));
            }
            catch (FormatException) when (torn) { }
            catch (FormatException e) { throw new InvalidDataException($"{path}, line {i + 1}: {e.Message}"); }
        }
        return rows;
    }
}
