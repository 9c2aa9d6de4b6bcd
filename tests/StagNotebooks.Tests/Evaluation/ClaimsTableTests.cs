using StagNotebooks.Evaluation;
using StagNotebooks.Reporting;
using StagNotebooks.Workbench;
using StagNotebooks.IO;

namespace StagNotebooks.Tests.Evaluation;

public class ClaimsTableTests
{
    static Dictionary<string, IReadOnlyList<double>> M(params (string, double[])[] arms) => arms.ToDictionary(a => a.Item1, a => (IReadOnlyList<double>)a.Item2);

    // A verdicts.csv exactly as a notebook's cell writes it: VerdictTable.Of saved by Figures.Save into the preset folder.
    static void SaveVerdicts(string root, string notebook, string preset, int seeds, params VerdictResult[] results) =>
        Figures.Save(VerdictTable.Of(results), Figures.Folder(notebook, preset, seeds, root), "verdicts");

    static readonly Dictionary<string, IReadOnlyList<double>> Arms = M(
        ("a", new[] { 1.0, 1.1, 0.9 }), ("b", new[] { 5.0, 5.1, 4.9 }), ("c", new[] { 1.0, 1.2, 0.8 }));

    // Texts with a comma and a quote, so the CSV round trip is exercised.
    static readonly VerdictResult Replicated = Verdicts.Judge(Claim.Beats("a beats b, clearly", "a", "b"), Arms);
    static readonly VerdictResult NotReplicated = Verdicts.Judge(Claim.Beats("b beats \"a\"", "b", "a"), Arms);
    static readonly VerdictResult Inconclusive = Verdicts.Judge(Claim.Beats("a beats c", "a", "c"), Arms);

    [Fact]
    public void Collects_every_notebooks_verdicts_of_one_preset_folder_with_a_notebook_column()
    {
        using var tmp = new TestPaths.TempDir();
        SaveVerdicts(tmp.Path, "03-training", "cpu-fidelity", 3, Replicated, Inconclusive);
        SaveVerdicts(tmp.Path, "05-window", "cpu-fidelity", 3, NotReplicated);
        SaveVerdicts(tmp.Path, "05-window", "cpu-small", 1, Replicated, Replicated, Replicated);   // another preset: not collected
        SaveVerdicts(tmp.Path, "08-more-stacks", "cpu-fidelity", 1, Inconclusive);                   // another seed count: not collected
        Directory.CreateDirectory(Path.Combine(tmp.Path, "06-decode-latency", "cpu-fidelity-3seeds"));   // no verdicts: skipped

        var rollup = ClaimsTable.Write(tmp.Path, "cpu-fidelity", 3);

        Assert.Equal(new[] { "03-training", "05-window" }, rollup.Notebooks);
        var t = rollup.Table;
        Assert.Equal(3, t.Rows.Count);
        Assert.Equal(new[] { "notebook" }.Concat(ClaimsTable.VerdictColumns), t.Columns.Select(c => c.Name));
        Assert.Equal(new[] { "03-training", "03-training", "05-window" }, Enumerable.Range(0, 3).Select(r => (string)t.Columns["notebook"][r]));
        Assert.Equal(new[] { "a beats b, clearly", "a beats c", "b beats \"a\"" }, Enumerable.Range(0, 3).Select(r => (string)t.Columns["claim"][r]));
        Assert.Equal(new[] { "Replicated", "Inconclusive", "NotReplicated" }, Enumerable.Range(0, 3).Select(r => (string)t.Columns["verdict"][r]));
        Assert.Equal(3, (int)t.Columns["seeds"][0]!);
        Assert.Equal(Replicated.Reason, (string)t.Columns["why"][0]);
        Assert.Equal(1, rollup.Counts[Verdict.Replicated]);
        Assert.Equal(1, rollup.Counts[Verdict.NotReplicated]);
        Assert.Equal(1, rollup.Counts[Verdict.Inconclusive]);
        Assert.Contains("3 claims from 2 notebooks", rollup.Summary);
        Assert.Equal("Holm over 3 claims of the series", (string)t.Columns["correction"][0]);   // one family: the series

        Assert.Equal(Path.Combine(tmp.Path, "claims", "cpu-fidelity-3seeds.md"), rollup.MarkdownPath);
        Assert.True(File.Exists(rollup.CsvPath));
        var md = File.ReadAllText(rollup.MarkdownPath);
        Assert.StartsWith("| notebook | claim |", md);
        Assert.Contains("| 05-window | b beats \"a\" |", md);
        Assert.Contains("preset cpu-fidelity · 3 seeds", md);
        // The roll-up's own CSV reads back: 3 rows plus the header.
        Assert.Equal(4, Csv.Read(rollup.CsvPath).Count);
        Assert.Empty(Directory.GetFiles(Path.Combine(tmp.Path, "claims"), "*.tmp-*"));
    }

    [Fact]
    public void A_notebook_with_its_own_preset_is_read_from_the_folder_given_for_it()
    {
        using var tmp = new TestPaths.TempDir();
        SaveVerdicts(tmp.Path, "03-training", "smoke", 1, Replicated);
        SaveVerdicts(tmp.Path, "11-synthetic", "synth-smoke", 1, Inconclusive, NotReplicated);
        Assert.Equal(new[] { "03-training" }, ClaimsTable.Find(tmp.Path, "smoke", 1).Select(f => f.Notebook));
        var rollup = ClaimsTable.Write(tmp.Path, "smoke", 1, new Dictionary<string, string> { ["11-synthetic"] = "synth-smoke" });
        Assert.Equal(new[] { "03-training", "11-synthetic" }, rollup.Notebooks);
        Assert.Equal(3, rollup.Table.Rows.Count);
        Assert.EndsWith(Path.Combine("claims", "smoke.csv"), rollup.CsvPath);
    }

    [Fact]
    public void No_verdicts_gives_an_empty_table_with_the_columns()
    {
        using var tmp = new TestPaths.TempDir();
        var rollup = ClaimsTable.Write(tmp.Path, "smoke", 1);
        Assert.Equal(0, rollup.Table.Rows.Count);
        Assert.Equal(1 + ClaimsTable.VerdictColumns.Count, rollup.Table.Columns.Count);
        Assert.Contains("0 replicated, 0 not replicated, 0 inconclusive (0 claims from 0 notebooks)", rollup.Summary);
    }

    [Theory]
    [InlineData("claim,metric\nx,y\n", "header")]                                          // not a verdicts table
    [InlineData("claim,metric,measured (mean ± sd),seeds,effect size d,verdict,why\nx,y,a,3,+1,Replicated,why\n", "retired rule")]   // the old format
    [InlineData("HEADER\nx,val loss,a 1,3,paired,+1\n", "6 fields")]                         // a row short of the header
    [InlineData("HEADER\nx,val loss,a 1,three,paired,+1,\"[+0.5, +1.5]\",0.01,Holm over 1 claims,0.01,Replicated,why\n", "seeds 'three'")]
    [InlineData("HEADER\nx,val loss,a 1,3,paired,+1,\"[+0.5, +1.5]\",0.01,Holm over 1 claims,0.01,Confirmed,why\n", "verdict 'Confirmed'")]
    [InlineData("HEADER\nx,val loss,a 1,3,paired,+1,\"[+0.5, +1.5]\",small,Holm over 1 claims,0.01,Replicated,why\n", "p 'small' is not a number")]
    [InlineData("HEADER\nx,val loss,a 1,3,paired,one,\"[+0.5, +1.5]\",0.01,Holm over 1 claims,0.01,Replicated,why\n", "difference 'one' is not a number")]
    [InlineData("HEADER\n\"x,val loss,a 1,3,+1.00,Replicated,why\n", "not closed")]       // unterminated quote
    [InlineData("", "empty")]
    public void A_malformed_verdicts_csv_is_an_error_naming_the_file(string content, string expected)
    {
        using var tmp = new TestPaths.TempDir();
        SaveVerdicts(tmp.Path, "03-training", "smoke", 1, Replicated);
        var bad = Path.Combine(tmp.Path, "07-recurrent", "smoke", "verdicts.csv");
        Directory.CreateDirectory(Path.GetDirectoryName(bad)!);
        File.WriteAllText(bad, content.Replace("HEADER", string.Join(",", ClaimsTable.VerdictColumns.Select(c => c.Contains(',') ? $"\"{c}\"" : c))));
        var e = Assert.Throws<InvalidDataException>(() => ClaimsTable.Write(tmp.Path, "smoke", 1));
        Assert.Contains(bad, e.Message);
        Assert.Contains(expected, e.Message);
        Assert.False(File.Exists(Path.Combine(tmp.Path, "claims", "smoke.md")));   // nothing half-written
    }

    [Fact]
    public void The_series_is_one_family_so_a_claim_resolved_in_its_notebook_can_become_inconclusive()
    {
        // Per-seed differences 2 ± 0.6 over 3 seeds: p ≈ 0.029, resolved alone; with two more claims of the series Holm needs ≤ 0.0167.
        var m = M(("x", new[] { 1.0, 2.0, 3.0 }), ("y", new[] { 2.4, 4.0, 5.6 }), ("z", new[] { 1.0, 2.0, 3.0 }));
        var alone = Verdicts.Judge(Claim.Beats("x beats y", "x", "y"), m);
        using var tmp = new TestPaths.TempDir();
        SaveVerdicts(tmp.Path, "03-training", "cpu-fidelity", 3, alone);
        Assert.Equal(Verdict.Replicated, ClaimsTable.Write(tmp.Path, "cpu-fidelity", 3).Counts.Single(c => c.Value == 1).Key);
        SaveVerdicts(tmp.Path, "05-window", "cpu-fidelity", 3, alone with { Claim = alone.Claim with { Text = "again" } }, Verdicts.Judge(Claim.Beats("x beats z", "x", "z"), m));
        var t = ClaimsTable.Write(tmp.Path, "cpu-fidelity", 3).Table;
        Assert.Equal("Inconclusive", (string)t.Columns["verdict"][0]);
        // Holm over p, p, 1 (the tie x vs z counts too): the smallest × 3, from the p the notebook's file holds (3 digits).
        Assert.Equal(Verdicts.PValue(3 * Verdicts.ParsePValue(Verdicts.PValue(alone.P))), (string)t.Columns["p corrected"][0]);
        Assert.Equal("Holm over 3 claims of the series", (string)t.Columns["correction"][0]);
    }

    [Fact]
    public void The_roll_up_draws_every_claim_with_its_interval_one_panel_per_metric_coloured_by_verdict()
    {
        using var tmp = new TestPaths.TempDir();
        var accuracy = M(("a", new[] { 0.50, 0.52, 0.51 }), ("b", new[] { 0.40, 0.43, 0.41 }));
        SaveVerdicts(tmp.Path, "03-training", "cpu-fidelity", 3, Replicated, Inconclusive);
        SaveVerdicts(tmp.Path, "04-quality", "cpu-fidelity", 3, Verdicts.Judge(Claim.Beats("a answers better", "a", "b", Better.Higher, "accuracy"), accuracy));
        var rollup = ClaimsTable.Write(tmp.Path, "cpu-fidelity", 3);
        Assert.True(File.Exists(Path.Combine(tmp.Path, "claims", "cpu-fidelity-3seeds-forest.html")));
        Assert.Contains("\"preset\": \"cpu-fidelity\"", File.ReadAllText(Path.Combine(tmp.Path, "claims", "cpu-fidelity-3seeds-forest.meta.json")));

        var figure = ClaimsTable.Forest(rollup.Table);
        // Two metrics: two panels with their own axes; val loss has a replicated and an inconclusive row, accuracy one.
        var traces = figure.Data.Select(t => t!.AsObject()).ToList();
        Assert.Equal(new[] { ("replicated", "x"), ("inconclusive", "x"), ("replicated", "x2") }, traces.Select(t => ((string)t["name"]!, (string)t["xaxis"]!)));
        Assert.Equal(new[] { true, true, false }, traces.Select(t => (bool)t["showlegend"]!));   // one legend entry per verdict
        Assert.Equal("#2f855a", (string)traces[0]["marker"]!["color"]!);
        Assert.Equal(new[] { "03 · a beats b, clearly", "03 · a beats c" }, figure.Layout["yaxis"]!["ticktext"]!.AsArray().Select(x => (string)x!));
        Assert.Equal("val loss (lower better): difference, > 0 = the paper's direction", (string)figure.Layout["xaxis"]!["title"]!["text"]!);
        Assert.Equal("accuracy (higher better): difference, > 0 = the paper's direction", (string)figure.Layout["xaxis2"]!["title"]!["text"]!);
        // The point is the table's difference, the bar's ends its interval, and zero is on the axis.
        double d = Verdicts.ParseSigned((string)rollup.Table.Columns["difference"][0]);
        var (low, high) = Verdicts.ParseInterval((string)rollup.Table.Columns["95% interval"][0]);
        Assert.Equal(d, (double)traces[0]["x"]![0]!);
        Assert.Equal(high - d, (double)traces[0]["error_x"]!["array"]![0]!, 12);
        Assert.Equal(d - low, (double)traces[0]["error_x"]!["arrayminus"]![0]!, 12);
        Assert.True((double)figure.Layout["xaxis"]!["range"]![0]! < 0);
        Assert.Equal((double.NaN, double.NaN), Verdicts.ParseInterval("(no interval: 1 seed)"));
    }
}
