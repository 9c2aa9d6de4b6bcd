using System.Globalization;
using Microsoft.Data.Analysis;
using StagNotebooks.Evaluation;

namespace StagNotebooks.Reporting;

/// <summary>
/// The roll-up of the notebooks' "compared with the paper" cells: every notebook saves its computed verdicts as
/// figures/&lt;notebook&gt;/&lt;preset&gt;[-Nseeds]/verdicts.csv (<see cref="VerdictTable.Of"/>); this collects those of one
/// preset and seed count into one table with a "notebook" column and writes it to
/// figures/claims/&lt;preset&gt;[-Nseeds].md and .csv. The rows are the notebooks' own, with one change: a notebook
/// corrects its p-values over its own claims, the series is one family, so here every row's p is corrected again over
/// all the claims of the series (<see cref="Verdicts.Adjust"/>, Holm) and its label re-derived by <see cref="Verdicts.Label"/>.
/// </summary>
public static class ClaimsTable
{
    /// <summary>The file each notebook's verdict cell writes (<c>Figures.Save(verdicts, figures, "verdicts")</c>).</summary>
    public const string VerdictsFile = "verdicts.csv";

    /// <summary>The folder under the figures root that holds the roll-ups.</summary>
    public const string Folder = "claims";

    /// <summary>The columns of <see cref="VerdictTable.Of"/>, in order: what every verdicts.csv must have as its header.</summary>
    public static IReadOnlyList<string> VerdictColumns { get; } = VerdictTable.Columns;

    /// <summary>
    /// The verdict file of each notebook folder under <paramref name="figuresRoot"/> for one preset and seed count:
    /// (notebook, figures/&lt;notebook&gt;/&lt;leaf&gt;/verdicts.csv) for the folders that have one, in notebook order.
    /// <paramref name="leafOf"/> overrides the folder leaf of notebooks with presets of their own (11-synthetic's
    /// SynthPreset); the others use <see cref="FigureFolder.Leaf"/>(preset, seeds).
    /// </summary>
    public static IReadOnlyList<(string Notebook, string Path)> Find(string figuresRoot, string preset, int seeds, IReadOnlyDictionary<string, string>? leafOf = null)
    {
        var leaf = FigureFolder.Leaf(preset, seeds);
        if (!Directory.Exists(figuresRoot)) return Array.Empty<(string, string)>();
        return Directory.GetDirectories(figuresRoot)
            .Select(d => System.IO.Path.GetFileName(d))
            .Where(n => n is not (Folder or "notebooks"))
            .Order(StringComparer.Ordinal)
            .Select(n => (Notebook: n, Path: System.IO.Path.Combine(figuresRoot, n, leafOf?.GetValueOrDefault(n) ?? leaf, VerdictsFile)))
            .Where(x => File.Exists(x.Path))
            .ToList();
    }

    /// <summary>One table: a "notebook" column, then the verdict columns of every file, rows in file order.</summary>
    /// <exception cref="InvalidDataException">a file is not a verdicts table (the message names the file)</exception>
    public static DataFrame Collect(IEnumerable<(string Notebook, string Path)> files)
    {
        var notebooks = new List<string>();
        var cells = VerdictColumns.Select(_ => new List<string>()).ToList();
        int seedsColumn = VerdictColumns.ToList().IndexOf("seeds");
        var seeds = new List<int>();
        foreach (var (notebook, path) in files)
        {
            var rows = Csv.Read(path);
            if (rows.Count == 0) throw new InvalidDataException($"{path}: empty; expected a header {string.Join(",", VerdictColumns)}");
            var header = rows[0];
            if (header.Contains("effect size d"))
                throw new InvalidDataException($"{path}: judged by the retired rule (2 pooled sd, unpaired, uncorrected); rerun its notebook to judge it with paired intervals and Holm's correction");
            if (!header.SequenceEqual(VerdictColumns))
                throw new InvalidDataException($"{path}: header [{string.Join(", ", header)}] is not a verdicts table's [{string.Join(", ", VerdictColumns)}]");
            for (int r = 1; r < rows.Count; r++)
            {
                var row = rows[r];
                if (row.Length == 1 && row[0].Length == 0) continue;   // a blank line
                if (row.Length != header.Length)
                    throw new InvalidDataException($"{path}: row {r + 1} has {row.Length} fields, the header {header.Length}");
                if (!int.TryParse(row[seedsColumn], NumberStyles.Integer, CultureInfo.InvariantCulture, out var n))
                    throw new InvalidDataException($"{path}: row {r + 1}: seeds '{row[seedsColumn]}' is not an integer");
                var label = row[VerdictColumns.ToList().IndexOf("verdict")];
                if (!Enum.TryParse<Verdict>(label, ignoreCase: false, out _) || int.TryParse(label, out _))
                    throw new InvalidDataException($"{path}: row {r + 1}: verdict '{label}' is not one of {string.Join(", ", Enum.GetNames<Verdict>())}");
                foreach (var (name, parse) in new (string, Func<string, double>)[] { ("p", Verdicts.ParsePValue), ("difference", Verdicts.ParseSigned) })
                {
                    var text = row[VerdictColumns.ToList().IndexOf(name)];
                    try { parse(text); }
                    catch (FormatException) { throw new InvalidDataException($"{path}: row {r + 1}: {name} '{text}' is not a number (or n/a)"); }
                }
                notebooks.Add(notebook);
                seeds.Add(n);
                for (int c = 0; c < row.Length; c++) cells[c].Add(row[c]);
            }
        }
        CorrectOverTheSeries(cells);
        var columns = new List<DataFrameColumn> { new StringDataFrameColumn("notebook", notebooks) };
        for (int c = 0; c < VerdictColumns.Count; c++)
            columns.Add(c == seedsColumn ? new Int32DataFrameColumn(VerdictColumns[c], seeds) : new StringDataFrameColumn(VerdictColumns[c], cells[c]));
        return new DataFrame(columns);
    }

    /// <summary>Holm over every row: "p corrected", "correction" and "verdict" recomputed from each row's p and difference.</summary>
    static void CorrectOverTheSeries(List<List<string>> cells)
    {
        int Col(string name) => VerdictColumns.ToList().IndexOf(name);
        var p = cells[Col("p")].Select(Verdicts.ParsePValue).ToList();
        var adjusted = Verdicts.Adjust(p);
        int tests = adjusted.Count(x => !double.IsNaN(x));
        string used = tests == 0 ? "none (no claim has an interval)" : $"Holm over {tests} claims of the series";
        for (int r = 0; r < p.Count; r++)
        {
            cells[Col("p corrected")][r] = Verdicts.PValue(adjusted[r]);
            cells[Col("correction")][r] = used;
            cells[Col("verdict")][r] = Verdicts.Label(Verdicts.ParseSigned(cells[Col("difference")][r]), adjusted[r]).ToString();
        }
    }

    /// <summary>How many rows carry each verdict label (every label present, zero where none).</summary>
    public static IReadOnlyDictionary<Verdict, int> Counts(DataFrame table)
    {
        var column = table.Columns["verdict"];
        var counts = Enum.GetValues<Verdict>().ToDictionary(v => v, _ => 0);
        for (long r = 0; r < table.Rows.Count; r++) counts[Enum.Parse<Verdict>((string)column[r])]++;
        return counts;
    }

    /// <summary>
    /// Collects the verdicts of one preset and seed count under <paramref name="figuresRoot"/> and writes
    /// figures/claims/&lt;preset&gt;[-Nseeds].csv and .md (atomically, with a provenance sidecar).
    /// </summary>
    public static ClaimsRollup Write(string figuresRoot, string preset, int seeds, IReadOnlyDictionary<string, string>? leafOf = null)
    {
        var files = Find(figuresRoot, preset, seeds, leafOf);
        var table = Collect(files);
        var folder = System.IO.Path.Combine(figuresRoot, Folder);
        var leaf = FigureFolder.Leaf(preset, seeds);
        var provenance = Provenance.Of(preset, seeds, $"claims roll-up of {files.Count} notebook(s)");
        FigureWriter.SaveTable(table, folder, leaf, provenance);
        if (table.Rows.Count > 0) FigureWriter.SaveChart(Forest(table), folder, leaf + "-forest", provenance);
        return new ClaimsRollup(table, files.Select(f => f.Notebook).ToList(), Counts(table),
            System.IO.Path.Combine(folder, leaf + ".md"), System.IO.Path.Combine(folder, leaf + ".csv"));
    }

    /// <summary>The colour of each verdict in pictures: replicated green, not replicated red, inconclusive grey.</summary>
    public static readonly IReadOnlyDictionary<string, string> VerdictColors = new Dictionary<string, string>
    {
        [Words(Verdict.Replicated)] = "#2f855a", [Words(Verdict.NotReplicated)] = "#c53030", [Words(Verdict.Inconclusive)] = "#718096",
    };

    static string Words(Verdict v) => v switch { Verdict.Replicated => "replicated", Verdict.NotReplicated => "not replicated", _ => "inconclusive" };

    /// <summary>
    /// Every claim of a roll-up as a forest plot: its difference (&gt; 0 = the paper's direction) with its 95% interval,
    /// one panel per metric, coloured by verdict, labelled "notebook · claim" (the full claim and reason on hover).
    /// </summary>
    public static Figure Forest(DataFrame table)
    {
        string Cell(string column, long r) => (string)table.Columns[column][r];
        var rows = Enumerable.Range(0, (int)table.Rows.Count).Select(r =>
        {
            var (low, high) = Verdicts.ParseInterval(Cell("95% interval", r));
            var claim = Cell("claim", r);
            var label = $"{Cell("notebook", r)[..Math.Min(2, Cell("notebook", r).Length)]} · {(claim.Length > 64 ? claim[..63] + "…" : claim)}";
            var verdict = Words(Enum.Parse<Verdict>(Cell("verdict", r)));
            return (Metric: Cell("metric", r), Row: new ForestRow(label, Verdicts.ParseSigned(Cell("difference", r)), low, high, verdict,
                $"{Cell("notebook", r)}: {claim}<br>{Cell("difference", r)} {Cell("95% interval", r)}, p corrected {Cell("p corrected", r)}: {verdict}"));
        }).ToList();
        var panels = rows.GroupBy(x => x.Metric).Select(g => ($"{g.Key}: difference, > 0 = the paper's direction", (IReadOnlyList<ForestRow>)g.Select(x => x.Row).ToList())).ToList();
        return Charts.Forest($"Every claim: its difference with a 95% interval ({table.Rows.Count} claims)", panels, VerdictColors);
    }
}

/// <summary>What <see cref="ClaimsTable.Write"/> wrote: the table, the notebooks it came from, the rows per verdict and the files.</summary>
public sealed record ClaimsRollup(DataFrame Table, IReadOnlyList<string> Notebooks, IReadOnlyDictionary<Verdict, int> Counts, string MarkdownPath, string CsvPath)
{
    /// <summary>"3 replicated, 1 not replicated, 5 inconclusive (9 claims from 6 notebooks)".</summary>
    public string Summary => $"{Counts[Verdict.Replicated]} replicated, {Counts[Verdict.NotReplicated]} not replicated, {Counts[Verdict.Inconclusive]} inconclusive " +
                             $"({Table.Rows.Count} claim{(Table.Rows.Count == 1 ? "" : "s")} from {Notebooks.Count} notebook{(Notebooks.Count == 1 ? "" : "s")})";
}
