using System.Text.Json;
using Microsoft.ML.Tokenizers;
using StagNotebooks.Data;
using StagNotebooks.Experiments;
using StagNotebooks.IO;
using StagNotebooks.Reporting;
using StagNotebooks.Runtime;
using StagNotebooks.Training;

namespace StagNotebooks.Workbench;

/// <summary>
/// A notebook's set-up in one call (<c>var nb = Setup("03-training", Preset, Seeds, Device, RunsRoot, FiguresRoot);</c>
/// after <c>#load "setup.csx"</c>): its figure folder (created), where trained runs live, its preset's corpus and
/// tokenizer (read on first use), and the device its training runs on. <see cref="Train(IEnumerable{string}, int?)"/>
/// trains or reuses arms with all of these, so no notebook can forget one (the device, say).
/// When a runner sets <see cref="ReceiptVariable"/>, the session writes there where this notebook writes its figures
/// and verdicts, so <c>stag reproduce</c> learns it from the notebook itself instead of re-reading its parameters.
/// </summary>
public sealed class NotebookSession
{
    /// <summary>The environment variable a runner sets to a file path; <see cref="Open"/> writes a <see cref="NotebookReceipt"/> there.</summary>
    public const string ReceiptVariable = "STAG_NOTEBOOK_RECEIPT";

    /// <summary>
    /// The environment variable a runner (<c>stag reproduce --concurrency</c>) sets to how many runs train at once:
    /// a number, or "auto" (the level <c>stag bench train --concurrency</c> measured fastest here, else 1; the default).
    /// </summary>
    public const string ConcurrencyVariable = "STAG_CONCURRENCY";

    /// <summary>The namespaces every notebook uses; setup.csx imports them into the kernel once.</summary>
    public static readonly IReadOnlyList<string> Namespaces = new[]
    {
        "System.IO", "Microsoft.Data.Analysis", "StagNotebooks.Benchmarks", "StagNotebooks.Data", "StagNotebooks.Decoding",
        "StagNotebooks.Evaluation", "StagNotebooks.Evaluation.Synthetic", "StagNotebooks.Experiments", "StagNotebooks.IO", "StagNotebooks.Model", "StagNotebooks.Probing", "StagNotebooks.Reporting", "StagNotebooks.Runtime",
        "StagNotebooks.Training", "StagNotebooks.Workbench", "TorchSharp",
    };

    /// <summary>The C# that imports <see cref="Namespaces"/> (plus <c>using static TorchSharp.torch</c>).</summary>
    public static string UsingDirectives => string.Concat(Namespaces.Select(n => $"using {n};\n")) + "using static TorchSharp.torch;\n";

    readonly Lazy<PackedDataset> _data;
    readonly Lazy<Tokenizer> _tokenizer;
    readonly Lazy<TunedRates?> _rates;

    NotebookSession(string notebook, string preset, int seeds, string device, string runs, FigureFolder figures, string figuresRoot)
    {
        Notebook = notebook; Preset = preset; Seeds = seeds; Device = device; Runs = runs; Figures = figures;
        _data = new(() => ExperimentRuns.DataFor(preset));
        _tokenizer = new(() => TokenizerFactory.Create(Data.Manifest.Tokenizer).Tokenizer);
        _rates = new(() => preset == "" ? null : TunedRates.For(preset, figuresRoot));
    }

    /// <summary>The notebook's name, e.g. "03-training": its figures go to figures/&lt;name&gt;/.</summary>
    public string Notebook { get; }
    /// <summary>The preset (a training preset, a model shape for notebook 06, a synthetic preset for 11; "" for none).</summary>
    public string Preset { get; }
    public int Seeds { get; }
    /// <summary>The device training and evaluation use: auto, cpu, cuda or cuda:N.</summary>
    public string Device { get; }
    /// <summary>The folder of trained runs (reused across notebooks by config hash).</summary>
    public string Runs { get; }
    /// <summary>figures/&lt;notebook&gt;/&lt;preset&gt;[-Nseeds]/ (figures/&lt;notebook&gt;/ without a preset), created.</summary>
    public FigureFolder Figures { get; }
    /// <summary>The preset's bundled corpus, packed with its tokenizer (prepared on first use).</summary>
    public PackedDataset Data => _data.Value;
    public Tokenizer Tokenizer => _tokenizer.Value;
    /// <summary>The peak rate of each arm, chosen by the preset's learning-rate sweep (figures/lr-sweep/); null when it was never swept: every arm at the preset's rate.</summary>
    public TunedRates? Rates => _rates.Value;

    /// <summary>
    /// The set-up of notebook <paramref name="notebook"/> at a preset and seed count. Empty roots mean the
    /// repository's runs/ (plus <paramref name="runsSubfolder"/>) and figures/. A device is checked here, by name.
    /// </summary>
    /// <exception cref="ArgumentException">an unknown or unavailable device, a preset that cannot name a folder, seeds &lt; 1</exception>
    public static NotebookSession Open(string notebook, string preset = "", int seeds = 1, string device = "auto", string runsRoot = "",
                                       string figuresRoot = "", string runsSubfolder = "")
    {
        if (string.IsNullOrWhiteSpace(notebook)) throw new ArgumentException("a notebook session needs the notebook's name (e.g. \"03-training\")");
        if (device != "auto") TorchRuntime.ResolveDevice(device);
        var root = string.IsNullOrEmpty(figuresRoot) ? RepoPaths.Figures : figuresRoot;
        var figures = preset == ""
            ? new FigureFolder(Path.Combine(root, notebook), Provenance.Of("", seeds, notebook))
            : FigureFolder.For(root, notebook, preset, seeds);
        Directory.CreateDirectory(figures.Path);
        var runs = string.IsNullOrEmpty(runsRoot) ? Path.Combine(RepoPaths.Runs, runsSubfolder) : runsRoot;
        var session = new NotebookSession(notebook, preset, seeds, device, runs, figures, root);
        if (Environment.GetEnvironmentVariable(ReceiptVariable) is { Length: > 0 } receipt) session.Receipt.Write(receipt);
        return session;
    }

    /// <summary>What a runner needs to know of this notebook's outputs.</summary>
    public NotebookReceipt Receipt => new(Notebook, Preset, Seeds, Figures.Path, Path.Combine(Figures.Path, "verdicts.csv"));

    /// <summary>Trains (or reuses) every variant for this notebook's seeds on its device, with its corpus and runs folder.</summary>
    public IReadOnlyList<Trained> Train(IEnumerable<string> variants, int? seeds = null) => Train(variants.Select(TrainingArm.Of), seeds);

    /// <summary>
    /// Trains (or reuses) every arm for this notebook's seeds (or <paramref name="seeds"/>) on its device, each at its
    /// own peak rate when the preset was swept (<see cref="Rates"/>, printed first).
    /// </summary>
    public IReadOnlyList<Trained> Train(IEnumerable<TrainingArm> arms, int? seeds = null)
    {
        Console.WriteLine(Rates?.ToString() ?? $"learning rate: the preset's for every arm ({Preset} has no learning-rate sweep in figures/lr-sweep/)");
        return ExperimentRuns.TrainAll(Preset, arms, seeds ?? Seeds, Data, Runs, Console.WriteLine, Device, concurrency: Concurrency, tuned: Rates);
    }

    /// <summary>Runs trained at once (<see cref="ConcurrencyVariable"/>; 0 = auto).</summary>
    /// <exception cref="ArgumentException">a value that is neither "auto" nor a whole number ≥ 1, named</exception>
    public static int Concurrency => Environment.GetEnvironmentVariable(ConcurrencyVariable) switch
    {
        null or "" or "auto" => 0,
        var v when int.TryParse(v, out var n) && n >= 1 => n,
        var v => throw new ArgumentException($"{ConcurrencyVariable}={v}: expected auto or a whole number ≥ 1"),
    };

    /// <summary>The model of a finished run on this notebook's device (its best checkpoint by default).</summary>
    public Model.StagFormerModel Load(TrainResult run, bool best = true) => ExperimentRuns.LoadModel(run.Run, best, Device);

    /// <summary>"03-training: preset cpu-small, 1 seed(s), device auto; runs in …; figures in …": what the set-up line prints.</summary>
    public override string ToString() => Preset == ""
        ? $"{Notebook}: device {Device}; figures in {Figures.Path}"
        : $"{Notebook}: preset {Preset}, {Seeds} seed(s), device {Device}; runs in {Runs}; figures in {Figures.Path}";
}

/// <summary>Where one notebook run wrote: its figure folder and the verdicts file it writes there (if it judges claims).</summary>
public sealed record NotebookReceipt(string Notebook, string Preset, int Seeds, string Figures, string Verdicts)
{
    static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    public void Write(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        AtomicFile.WriteAllText(path, JsonSerializer.Serialize(this, Json));
    }

    /// <summary>
    /// The figure-folder leaf of each notebook whose receipt names a folder other than the series' own leaf (a
    /// notebook with presets of its own, such as 11-synthetic at SynthPreset): what the claims roll-up must read.
    /// Notebooks without a preset (00–02) write to figures/&lt;notebook&gt;/ and judge nothing, so they are left out.
    /// </summary>
    public static Dictionary<string, string> LeafOverrides(IEnumerable<NotebookReceipt?> receipts, string seriesLeaf) =>
        receipts.OfType<NotebookReceipt>().Where(r => r.Preset != "" && Path.GetFileName(r.Figures) != seriesLeaf)
            .ToDictionary(r => r.Notebook, r => Path.GetFileName(r.Figures));

    /// <summary>The receipt at <paramref name="path"/>; null when there is none.</summary>
    /// <exception cref="InvalidDataException">a receipt that is not one, naming the file</exception>
    public static NotebookReceipt? Read(string path)
    {
        if (!File.Exists(path)) return null;
        try
        {
            return JsonSerializer.Deserialize<NotebookReceipt>(File.ReadAllText(path), Json)
                   ?? throw new InvalidDataException($"{path}: empty notebook receipt");
        }
        catch (JsonException e) { throw new InvalidDataException($"{path}: not a notebook receipt ({e.Message})", e); }
    }
}
