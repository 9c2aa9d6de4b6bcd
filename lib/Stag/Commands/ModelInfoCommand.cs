using Spectre.Console;
using StagNotebooks.Model;
using StagNotebooks.Training;

namespace StagNotebooks.Cli.Commands;

public sealed class ModelInfoCommand : ICommand
{
    public string Name => "model info";
    public string Summary => "a model's config, parameter report (per stack and component) and decode memory report";
    public string Usage => $"""
        stag model info [--shape NAME | --preset NAME [--variant NAME]] [--set Field=value ...] [--batch 1] [--context N] [--json]

          --shape     one of: {string.Join(", ", ModelShapes.All.Keys)}
          --preset    a training preset's model: {string.Join(", ", Presets.Names(PresetKind.Text))}
          --variant   turn it into: {string.Join(", ", ModelVariants.Names)}
          --set       override a model field, e.g. --set CrossWindow=128
        """;
    public IEnumerable<string> Switches => new[] { "json" };

    public int Run(CommandLine args)
    {
        StagFormerConfig c;
        if (args.Get("preset") is { } preset)
        {
            c = Presets.Config(preset).Model;
            if (c.VocabSize == 0) c = c with { VocabSize = 4096 };
        }
        else c = ModelShapes.Get(args.Get("shape", "cpu-2xh-separate"));
        if (args.Get("variant") is { } v) c = ModelVariants.Apply(c, v);
        var sets = args.All("set");
        if (sets.Count > 0) c = new TrainConfig { Model = c, ContextLength = 2 }.WithOverrides(sets.Select(s => "Model." + s)).Model;
        int batch = args.GetInt("batch", 1), context = args.GetInt("context", c.MaxContext);
        bool json = args.Flag("json");
        args.RejectUnknown();

        var groups = ParameterReport.Expected(c.Validate());
        var mem = MemoryReport.For(c, batch, context);
        if (json)
        {
            Console.WriteLine(System.Text.Json.JsonSerializer.Serialize(new { config = c, parameters = groups, total = ParameterReport.Total(groups), memory = mem },
                new System.Text.Json.JsonSerializerOptions(StagFormerConfig.Json)));
            return 0;
        }
        Console.WriteLine(c.ToJson());
        var t = new Table().Border(TableBorder.Rounded).AddColumn("stack").AddColumn("component").AddColumn(new TableColumn("parameters").RightAligned());
        foreach (var g in groups) t.AddRow(g.Stack, g.Component, g.Count.ToString("N0"));
        t.AddRow("[bold]total[/]", "", $"[bold]{ParameterReport.Total(groups):N0}[/]");
        AnsiConsole.Write(t);
        Console.WriteLine($"decode memory at batch {batch}, context {context} (fp32): weights {mem.WeightBytes / 1e6:F1} MB, self KV {mem.SelfKvBytes / 1e6:F2} MB, cross KV {mem.CrossKvBytes / 1e6:F2} MB");
        return 0;
    }
}
