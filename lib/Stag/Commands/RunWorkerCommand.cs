using System.Text.Json.Nodes;
using StagNotebooks.Benchmarks;
using StagNotebooks.Data;
using StagNotebooks.Runtime;
using StagNotebooks.Training;
using TorchSharp;
using StagNotebooks.Experiments;

namespace StagNotebooks.Cli.Commands;

/// <summary>
/// One run for <see cref="RunScheduler"/>: reads the request file it wrote, trains (or resumes) the run through the
/// same <see cref="RunService.TrainOrReuse"/> as everything else, and prints a progress line per step on stdout.
/// </summary>
public sealed class RunWorkerCommand : ICommand
{
    public string Name => "run-worker";
    public string Summary => "(used by the run scheduler) train the one run a request file describes, printing its progress";
    public string Usage => """
        stag run-worker <request.json>

          The scheduler (concurrency > 1) starts one of these per run it trains side by side. The request names the run's
          config, label, folder, data ("packed:<folder>" or "synthetic:<task>"), runs folder, device and thread count.
        """;
    public IEnumerable<string> Switches => Array.Empty<string>();

    public int Run(CommandLine args)
    {
        var file = args.Positional.Count == 1 ? args.Positional[0] : throw new CliException("run-worker needs one request file");
        args.RejectUnknown();
        JsonNode request;
        try { request = JsonNode.Parse(File.ReadAllText(file)) ?? throw new CliException($"{file}: empty request"); }
        catch (System.Text.Json.JsonException e) { throw new CliException($"{file}: not a run request ({e.Message})"); }
        string Field(string name) => request[name]?.ToString() ?? throw new CliException($"{file}: field '{name}' missing");
        TorchRuntime.EnsureLoaded();
        torch.set_num_threads(int.Parse(Field("threads")));
        var config = TrainConfig.FromJson(Field("config"), file + " (config)");
        var data = Open(Field("data"), file);
        if (data.Id != Field("dataId"))
            throw new CliException($"{file}: data '{Field("data")}' is {data.Id} here, the scheduler expected {Field("dataId")}");
        var result = RunService.TrainOrReuse(new RunRequest(config, Field("label"), data, Field("name")),
            new RunOptions(Field("runsRoot"), Field("device"), Log: Console.Error.WriteLine,
                           Progress: p => { Console.Out.WriteLine(RunScheduler.ProgressLine(p)); Console.Out.Flush(); }));
        Console.Error.WriteLine($"{result.Run.Path}: {result.Steps} steps, best val loss {result.BestValLoss}");
        return 0;
    }

    static IRunData Open(string spec, string file)
    {
        if (spec.StartsWith(PackedRunData.Prefix, StringComparison.Ordinal)) return new PackedRunData(PackedDataset.Load(spec[PackedRunData.Prefix.Length..]));
        if (spec.StartsWith(SyntheticRunData.Prefix, StringComparison.Ordinal)) return SyntheticRunData.Parse(spec);
        throw new CliException($"{file}: unknown data '{spec}' (expected packed:<folder> or synthetic:<task>)");
    }
}
