using StagNotebooks.Data;
using StagNotebooks.IO;
using StagNotebooks.Notebooks;
using StagNotebooks.Reporting;
using StagNotebooks.Training;
using StagNotebooks.Workbench;

namespace StagNotebooks.Cli.Commands;

public sealed class ReproduceCommand : ICommand
{
    public string Name => "reproduce";
    public string Summary => "run the whole notebook series headless: trains (or reuses) every model, writes figures/";
    public string Usage => """
        stag reproduce [--preset cpu-judge] [--seeds 3] [--quick] [--device auto|cpu|cuda] [-p Name=value ...] [--threads N]
                       [--only 03,07] [--concurrency auto|N] [--in-place] [--plan]

          With no options: the series that decides, at the judging preset (cpu-judge: h = 2 per stack) with 3 seeds,
          each arm at the learning rate its sweep chose (figures/lr-sweep/cpu-judge-*/chosen-rates.json) — hours on a
          laptop's CPU. --quick: the smoke preset with one seed, minutes: it shows the machinery and decides nothing.
          Runs notebooks/00-… to 11-… in order with these parameters (each notebook takes the ones it declares),
          each in its own process on a fresh .NET Interactive kernel, so nothing one notebook held outlives it.
          Trained runs are found in runs/ by config hash and reused, so nothing trains twice; an interrupted
          reproduce resumes. Executed notebooks go to figures/notebooks/, charts (HTML, PNG with Chromium) and
          tables (CSV, Markdown) to figures/<notebook>/. Each notebook's wall time and peak resident memory
          (sampled once a second) are printed and written to figures/notebooks/reproduce-memory.csv.
          Then every notebook's computed verdicts (figures/<notebook>/<preset>[-Nseeds]/verdicts.csv) are
          collected into figures/claims/<preset>[-Nseeds].md and .csv, and the count per verdict is printed.
          --only runs the notebooks it names (by number or name); the roll-up still collects every notebook's
          verdicts already in figures/ for this preset and seeds.
          --concurrency  runs a notebook trains at once, side by side in worker processes (auto: the level
                         `stag bench train --concurrency 1,2 --preset <preset>` measured fastest here, else 1).
                         A run's results are the same whatever the level.
          --in-place writes each executed notebook over itself in notebooks/ (atomically, stamped with the source
          hash of every code cell, preset, seeds and commit) instead of into figures/notebooks/: how the committed
          notebooks are re-executed; `stag notebook check` then tells whether they are complete and current.
          Before the first notebook it prints the series plan: every notebook's nb.Train calls read from its source,
          the models each trains first (a model two notebooks share counts once; finished ones in runs/ are reused)
          and the estimated training time (from runs already in runs/, else a few measured steps per model shape);
          after each notebook, the models trained so far and the time left at the pace so far.
          --plan prints the plan and stops.
        """;

    public IEnumerable<string> Switches => ["in-place", "quick", "plan"];

    /// <summary>The notebooks' parameters: the judging preset with 3 seeds, or with --quick smoke with one; --preset, --seeds, --device and -p override.</summary>
    static Dictionary<string, string> SeriesParameters(CommandLine args)
    {
        bool quick = args.Flag("quick");
        var seeds = args.GetInt("seeds", quick ? 1 : 3).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var parameters = new Dictionary<string, string>
        {
            ["Preset"] = args.Get("preset", quick ? "smoke" : Presets.Judging),
            ["Seeds"] = seeds,
            ["SynthSeeds"] = seeds,   // notebook 11's seeds (its presets are its own)
            ["Device"] = args.Get("device", "auto"),
        };
        if (quick) parameters["SynthPreset"] = "synth-smoke";
        foreach (var (k, v) in NotebookRunCommand.Parameters(args)) parameters[k] = v;
        return parameters;
    }

    public int Run(CommandLine args)
    {
        var parameters = SeriesParameters(args);
        var threads = args.Has("threads") ? args.GetInt("threads", 0).ToString() : null;
        var only = args.All("only");
        var concurrency = CommonOptions.Concurrency(args) is int n and > 0 ? n.ToString() : "auto";   // to each notebook's process
        var inPlace = args.Flag("in-place");
        var planOnly = args.Flag("plan");
        args.RejectUnknown();
        var (seriesLeaf, seeds) = SeriesLeaf(parameters);
        Console.WriteLine(seeds < 2
            ? $"preset {parameters["Preset"]}, 1 seed: this run shows the machinery and decides nothing (a verdict needs seeds to have an interval)"
            : $"preset {parameters["Preset"]}, {seeds} seeds: the plan first, then each notebook prints what it trains and about how long before it trains");
        var output = Path.Combine(RepoPaths.Figures, "notebooks");
        Directory.CreateDirectory(output);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var series = NotebookSeries.Notebooks(Path.Combine(RepoPaths.Root, "notebooks"));
        IReadOnlyList<string> notebooks;
        try { notebooks = NotebookSeries.Select(series, only); }
        catch (ArgumentException e) { throw new CliException($"--only: {e.Message}"); }
        var plan = PrintPlan(notebooks, parameters, concurrency);
        if (planOnly) return plan is null ? 1 : 0;
        var sincePlan = System.Diagnostics.Stopwatch.StartNew();
        var memory = new List<(string Notebook, double Seconds, double PeakMB)>();
        foreach (var nb in notebooks)
        {
            Console.WriteLine($"▶ {Path.GetFileName(nb)}");
            var receipt = ReceiptPath(output, nb, seriesLeaf);
            var (code, seconds, peak) = RunChild(nb, NotebookSeries.Applicable(nb, parameters), inPlace ? nb : Path.Combine(output, Path.GetFileName(nb)), threads, receipt, concurrency);
            memory.Add((Path.GetFileName(nb), seconds, peak));
            Console.WriteLine($"  {seconds:F0} s, peak resident memory {peak / 1024:F2} GB");
            if (plan is { Runs.Count: > 0 }) Console.WriteLine($"  {plan.ProgressLine(sincePlan.Elapsed.TotalSeconds)}");
            WriteMemory(Path.Combine(output, "reproduce-memory.csv"), parameters["Preset"], memory);
            if (code != 0)
            {
                Console.Error.WriteLine($"stag reproduce: stopped at {Path.GetFileName(nb)} (exit code {code}); run the same command again after fixing: finished training runs are reused");
                return 1;
            }
        }
        ClaimsRollup claims;
        try { claims = WriteClaims(series, parameters, output, seriesLeaf); }
        catch (InvalidDataException e)
        {
            Console.Error.WriteLine($"stag reproduce: the notebooks ran, but the claims table could not be built: {e.Message}");
            return 1;
        }
        PrintSummary(notebooks.Count, clock.Elapsed, memory, output, inPlace, claims);
        return 0;
    }

    /// <summary>The figure-folder leaf of the series (preset and seeds) and its seed count.</summary>
    static (string Leaf, int Seeds) SeriesLeaf(IReadOnlyDictionary<string, string> parameters)
    {
        int seeds = int.Parse(parameters["Seeds"], System.Globalization.CultureInfo.InvariantCulture);
        try { return (FigureFolder.Leaf(parameters["Preset"], seeds), seeds); }
        catch (ArgumentException e) { throw new CliException($"--preset/--seeds: {e.Message}"); }
    }

    /// <summary>The series plan (<see cref="SeriesPlan"/>), printed; null, with the reason on stderr, when it cannot be made.</summary>
    static SeriesPlan? PrintPlan(IReadOnlyList<string> notebooks, IReadOnlyDictionary<string, string> parameters, string concurrency)
    {
        Console.WriteLine("series plan (each notebook's nb.Train calls, read before any runs):");
        try
        {
            var plan = SeriesPlan.Of(notebooks, parameters, parameters["Device"], concurrency == "auto" ? ConcurrencyChoice.For(parameters["Preset"], RepoPaths.Runs) : int.Parse(concurrency));
            foreach (var line in plan.Lines()) Console.WriteLine(line);
            return plan;
        }
        catch (Exception e) when (e is InvalidDataException or ArgumentException or StagNotebooks.Model.ConfigException or IOException)
        {
            Console.Error.WriteLine($"stag reproduce: no series plan: {e.Message}");
            return null;
        }
    }

    static void PrintSummary(int notebooks, TimeSpan elapsed, List<(string Notebook, double Seconds, double PeakMB)> memory, string output, bool inPlace, ClaimsRollup claims)
    {
        Console.WriteLine($"\n{notebooks} notebooks in {elapsed.TotalMinutes:F1} min; peak resident memory of one notebook {memory.Max(m => m.PeakMB) / 1024:F2} GB ({memory.MaxBy(m => m.PeakMB).Notebook}).");
        Console.WriteLine($"memory per notebook: {Path.Combine(output, "reproduce-memory.csv")}");
        Console.WriteLine($"executed notebooks: {(inPlace ? Path.Combine(RepoPaths.Root, "notebooks") : output)}");
        Console.WriteLine($"figures and tables: {RepoPaths.Figures}/<notebook>/ (HTML charts open offline{(Reporting.FigureWriter.Chromium is null ? "; install chromium for PNGs" : ", PNGs beside them")})");
        Console.WriteLine($"trained runs:       {RepoPaths.Runs}");
        Console.WriteLine($"claims table:       {claims.MarkdownPath} (and .csv)");
        Console.WriteLine($"verdicts:           {claims.Summary}");
    }

    /// <summary>
    /// The roll-up of every notebook's verdicts.csv for this run's preset and seeds, under the figures root the
    /// notebooks wrote to (FiguresRoot when given). Where a notebook wrote is what it said in its receipt
    /// (<see cref="NotebookSession.ReceiptVariable"/>): a notebook with presets of its own (11-synthetic) wrote to
    /// the folder those name. A notebook without a receipt for this series is looked for in the series' folder.
    /// </summary>
    static ClaimsRollup WriteClaims(IReadOnlyList<string> notebooks, IReadOnlyDictionary<string, string> parameters, string output, string leaf)
    {
        var root = parameters.TryGetValue("FiguresRoot", out var r) && r != "" ? r : RepoPaths.Figures;
        var (preset, seeds) = (parameters["Preset"], int.Parse(parameters["Seeds"], System.Globalization.CultureInfo.InvariantCulture));
        var receipts = notebooks.Select(nb => NotebookReceipt.Read(ReceiptPath(output, nb, leaf)));
        return ClaimsTable.Write(root, preset, seeds, NotebookReceipt.LeafOverrides(receipts, leaf));
    }

    /// <summary>figures/notebooks/&lt;notebook&gt;.&lt;series leaf&gt;.receipt.json: where a notebook of this series said it wrote.</summary>
    static string ReceiptPath(string output, string notebook, string seriesLeaf) =>
        Path.Combine(output, $"{Path.GetFileNameWithoutExtension(notebook)}.{seriesLeaf}.receipt.json");

    /// <summary>`stag notebook run` in a child process: one notebook, one kernel, one process, all released at its exit.</summary>
    static (int Code, double Seconds, double PeakMB) RunChild(string notebook, IReadOnlyDictionary<string, string> parameters, string output, string? threads, string receipt,
                                                                  string concurrency)
    {
        var self = Environment.ProcessPath!;
        var psi = new System.Diagnostics.ProcessStartInfo(self) { UseShellExecute = false };
        File.Delete(receipt);   // a receipt from an earlier run of this notebook must not stand for this one
        psi.Environment[NotebookSession.ReceiptVariable] = receipt;
        psi.Environment[NotebookSession.ConcurrencyVariable] = concurrency;
        if (Path.GetFileNameWithoutExtension(self) == "dotnet") psi.ArgumentList.Add(typeof(ReproduceCommand).Assembly.Location);   // run as `dotnet stag.dll`
        foreach (var a in new[] { "notebook", "run", notebook, "--out", output }) psi.ArgumentList.Add(a);
        if (threads != null) { psi.ArgumentList.Add("--threads"); psi.ArgumentList.Add(threads); }
        foreach (var (k, v) in parameters) { psi.ArgumentList.Add("-p"); psi.ArgumentList.Add($"{k}={v}"); }
        using var child = System.Diagnostics.Process.Start(psi)!;
        using var sampler = new Benchmarks.ProcessMemory(child, TimeSpan.FromSeconds(1));
        child.WaitForExit();
        sampler.Dispose();
        return (child.ExitCode, sampler.Seconds, sampler.PeakMB);
    }

    /// <summary>One row per notebook run so far: its wall time and peak resident memory (VmRSS sampled once a second).</summary>
    static void WriteMemory(string path, string preset, IEnumerable<(string Notebook, double Seconds, double PeakMB)> rows) =>
        AtomicFile.WriteAllText(path, "notebook,preset,seconds,peak_resident_mb\n" + string.Concat(rows.Select(r =>
            string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{r.Notebook},{preset},{r.Seconds:F1},{r.PeakMB:F0}\n"))));
}
