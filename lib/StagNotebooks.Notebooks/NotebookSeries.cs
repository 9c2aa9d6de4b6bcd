using System.Text.Json.Nodes;

namespace StagNotebooks.Notebooks;

/// <summary>The notebook series in order, run headless: what `stag reproduce` and the tests do.</summary>
public static class NotebookSeries
{
    /// <summary>notebooks/NN-*.ipynb in order (executed copies excluded).</summary>
    public static IReadOnlyList<string> Notebooks(string folder) =>
        Directory.GetFiles(folder, "*.ipynb").Where(f => !f.EndsWith(".executed.ipynb", StringComparison.Ordinal))
            .Where(f => char.IsDigit(Path.GetFileName(f)[0])).Order(StringComparer.Ordinal).ToList();

    /// <summary>
    /// The notebooks named by <paramref name="only"/> ("03", "03-training" or "03-training.ipynb"), in series order;
    /// all of them when <paramref name="only"/> is empty. A name that matches no notebook is an error listing them.
    /// </summary>
    public static IReadOnlyList<string> Select(IReadOnlyList<string> notebooks, IEnumerable<string> only)
    {
        var names = only.SelectMany(o => o.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToList();
        if (names.Count == 0) return notebooks;
        static bool Matches(string notebook, string name)
        {
            var file = Path.GetFileName(notebook);
            var stem = Path.GetFileNameWithoutExtension(notebook);
            return file == name || stem == name || stem.StartsWith(name + "-", StringComparison.Ordinal);
        }
        foreach (var n in names.Where(n => !notebooks.Any(nb => Matches(nb, n))))
            throw new ArgumentException($"no notebook '{n}'; the series: {string.Join(", ", notebooks.Select(Path.GetFileNameWithoutExtension))}");
        return notebooks.Where(nb => names.Any(n => Matches(nb, n))).ToList();
    }

    /// <summary>The overrides a notebook's parameters cell declares (others are dropped, so one set serves the whole series).</summary>
    public static Dictionary<string, string> Applicable(string notebook, IReadOnlyDictionary<string, string> parameters)
    {
        var declared = Declared(notebook);
        return parameters.Where(kv => declared.ContainsKey(kv.Key)).ToDictionary(kv => kv.Key, kv => kv.Value);
    }

    /// <summary>The names a notebook's parameters cell declares and their default literals (empty without such a cell).</summary>
    public static IReadOnlyDictionary<string, string> Declared(string notebook)
    {
        var doc = NotebookDocument.Load(notebook);
        var cell = doc.Cells.OfType<JsonObject>().FirstOrDefault(c => NotebookDocument.Tags(c).Contains("parameters"));
        return cell is null ? new Dictionary<string, string>() : ParametersCell.Declared(NotebookDocument.Source(cell));
    }

    /// <summary>
    /// The value a parameter takes when the notebook runs with <paramref name="parameters"/>: the override, else the
    /// declared default (a string literal unquoted); null when the notebook does not declare it.
    /// </summary>
    public static string? Effective(string notebook, string name, IReadOnlyDictionary<string, string> parameters) =>
        NotebookStamp.Effective(NotebookDocument.Load(notebook), name, parameters);

    /// <summary>
    /// Runs every notebook in order, each on its own fresh kernel; executed copies go to <paramref name="outputFolder"/>,
    /// and beside each its receipt (&lt;notebook&gt;.receipt.json: where its set-up said it writes; see <see cref="ReceiptOf"/>).
    /// </summary>
    public static IReadOnlyList<NotebookRun> Run(string folder, IReadOnlyDictionary<string, string> parameters, string outputFolder, TextWriter? log = null)
    {
        Directory.CreateDirectory(outputFolder);
        var runs = new List<NotebookRun>();
        foreach (var nb in Notebooks(folder))
        {
            log?.WriteLine($"▶ {Path.GetFileName(nb)}");
            var receipt = ReceiptPath(outputFolder, nb);
            File.Delete(receipt);   // an earlier run's receipt must not stand for this one
            var before = Environment.GetEnvironmentVariable(Workbench.NotebookSession.ReceiptVariable);
            Environment.SetEnvironmentVariable(Workbench.NotebookSession.ReceiptVariable, receipt);   // one notebook at a time in this process
            NotebookRun run;
            try { run = NotebookRunner.Run(nb, Applicable(nb, parameters), Path.Combine(outputFolder, Path.GetFileName(nb)), log); }
            finally { Environment.SetEnvironmentVariable(Workbench.NotebookSession.ReceiptVariable, before); }
            log?.WriteLine($"  done in {run.TotalSeconds:F1} s → {run.Output}");
            runs.Add(run);
        }
        return runs;
    }

    /// <summary>Where a series run keeps a notebook's receipt: beside its executed copy.</summary>
    public static string ReceiptPath(string outputFolder, string notebook) =>
        Path.Combine(outputFolder, Path.GetFileNameWithoutExtension(notebook) + ".receipt.json");

    /// <summary>The receipt a series run into <paramref name="outputFolder"/> kept for <paramref name="notebook"/> (null: its set-up never ran).</summary>
    public static Workbench.NotebookReceipt? ReceiptOf(string outputFolder, string notebook) => Workbench.NotebookReceipt.Read(ReceiptPath(outputFolder, notebook));
}
