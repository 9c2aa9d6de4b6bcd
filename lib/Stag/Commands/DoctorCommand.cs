using System.Text.Json;
using Spectre.Console;
using StagNotebooks.Benchmarks;
using StagNotebooks.Runtime;

namespace StagNotebooks.Cli.Commands;

public sealed class DoctorCommand : ICommand
{
    public string Name => "doctor";
    public string Summary => "check TorchSharp, devices and the libstdc++ fix; measure GEMM GFLOP/s and memory GB/s";
    public string Usage => """
        stag doctor [--device auto|cpu|cuda[:N]] [--threads N] [--no-measure] [--json]

          --device      compute device to measure (default auto: CUDA when present, else CPU)
          --threads     intra-op threads for libtorch (default: libtorch's choice, all cores)
          --no-measure  skip the roofline measurement
          --json        print the report as JSON
        """;
    public IEnumerable<string> Switches => new[] { "json", "no-measure" };

    public int Run(CommandLine args)
    {
        var device = args.Get("device", "auto");
        bool json = args.Flag("json"), noMeasure = args.Flag("no-measure");
        CommonOptions.ApplyThreads(args);
        args.RejectUnknown();

        var r = DoctorReport.Collect(device, measure: !noMeasure);
        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(r, new JsonSerializerOptions { WriteIndented = true, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals }));
            return 0;
        }
        var t = new Table().Border(TableBorder.Rounded).AddColumn("check").AddColumn("result");
        t.AddRow("TorchSharp", r.TorchSharpVersion);
        t.AddRow("libtorch", r.LibTorchVersion);
        t.AddRow("backend", r.Backend);
        t.AddRow("OS / .NET", Markup.Escape($"{r.Os} / {r.DotNet}"));
        t.AddRow("CUDA", r.CudaAvailable ? Markup.Escape($"{r.CudaDeviceCount} device(s): {string.Join(", ", r.CudaDevices)}") : "not available");
        t.AddRow("threads", $"{r.Threads} (logical cores {r.LogicalCores})");
        t.AddRow("libstdc++ fix", Markup.Escape(r.LibStdCxx));
        t.AddRow("device", r.Device);
        if (!noMeasure)
        {
            t.AddRow("fp32 GEMM", $"{r.Roofline.GemmGflops:F1} GFLOP/s ({r.Roofline.GemmSize}² matmul)");
            t.AddRow("memory bandwidth", $"{r.Roofline.BandwidthGBs:F1} GB/s (copy of {r.Roofline.CopyBytes >> 20} MiB)");
        }
        AnsiConsole.Write(t);
        return 0;
    }
}
