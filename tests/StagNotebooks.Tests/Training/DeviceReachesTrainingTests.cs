using StagNotebooks.Notebooks;
using StagNotebooks.Workbench;
using TorchSharp;
using StagNotebooks.Experiments;

namespace StagNotebooks.Tests.Training;

/// <summary>`stag reproduce --device` and a notebook's Device reach training (they used to stop before it: it always trained on "auto").</summary>
[Collection("notebooks")]
public class DeviceReachesTrainingTests
{
    [Fact]
    public void An_unknown_device_is_an_error_naming_it_before_anything_is_trained()
    {
        using var tmp = new TestPaths.TempDir();
        var e = Assert.Throws<ArgumentException>(() => ExperimentRuns.TrainAll("smoke", new[] { "baseline-h" }, 1, ExperimentRuns.Data(), tmp.Path, device: "tpu"));
        Assert.Equal("--device tpu: expected auto, cpu, cuda or cuda:N.", e.Message);
        Assert.Empty(Directory.GetDirectories(tmp.Path));
    }

    [Fact]
    public void Training_runs_on_the_device_asked_for_and_records_it()
    {
        using var tmp = new TestPaths.TempDir();
        var trained = ExperimentRuns.TrainAll("smoke", new[] { "baseline-h" }, 1, ExperimentRuns.Data(), tmp.Path, device: "cpu");
        Assert.Equal("cpu", trained[0].Seeds[0].Run.TrainedOn);
        if (torch.cuda.is_available()) return;   // below: a CPU-only machine must refuse CUDA instead of training on "auto"
        var e = Assert.Throws<ArgumentException>(() => ExperimentRuns.TrainAll("smoke", new[] { "baseline-h" }, 1, ExperimentRuns.Data(), tmp.Path, device: "cuda"));
        Assert.StartsWith("--device cuda: CUDA is not available", e.Message);
    }

    [Fact]
    public void A_notebook_run_with_Device_cpu_trains_on_cpu()
    {
        using var tmp = new TestPaths.TempDir();
        NotebookRunner.Run(TestPaths.Repo("notebooks/09-probing.ipynb"),
            new Dictionary<string, string> { ["Preset"] = "smoke", ["Device"] = "cpu", ["RunsRoot"] = tmp.File("runs"), ["FiguresRoot"] = tmp.File("figures") },
            outputPath: tmp.File("out.ipynb"));
        var done = Directory.GetFiles(tmp.File("runs"), "done.json", SearchOption.AllDirectories);
        Assert.NotEmpty(done);
        Assert.All(done, d => Assert.Equal("cpu", System.Text.Json.JsonDocument.Parse(File.ReadAllText(d)).RootElement.GetProperty("device").GetString()));
    }

    [Fact]
    public void A_notebooks_Device_parameter_is_checked_by_its_set_up_line()
    {
        if (torch.cuda.is_available()) return;   // the check needs a device this machine lacks
        using var tmp = new TestPaths.TempDir();
        var nb = TestPaths.Repo("notebooks/09-probing.ipynb");
        var e = Assert.Throws<NotebookException>(() => NotebookRunner.Run(nb,
            new Dictionary<string, string> { ["Preset"] = "smoke", ["Device"] = "cuda", ["RunsRoot"] = tmp.File("runs"), ["FiguresRoot"] = tmp.File("figures") },
            outputPath: tmp.File("out.ipynb")));
        Assert.Contains("--device cuda: CUDA is not available", e.Message);
        // The failing cell is the set-up cell, before any training: the only one with an error output.
        var failed = NotebookDocument.Load(tmp.File("out.ipynb")).Cells
            .Where(c => c!["outputs"] is System.Text.Json.Nodes.JsonArray outs && outs.Any(o => o!["output_type"]!.GetValue<string>() == "error")).ToList();
        Assert.Contains("var nb = Setup(", Assert.Single(failed)!["source"]!.ToJsonString());
        // … and it failed before training: nothing was trained on another device instead.
        Assert.Empty(Directory.Exists(tmp.File("runs")) ? Directory.GetFiles(tmp.File("runs"), "done.json", SearchOption.AllDirectories) : Array.Empty<string>());
    }
}
