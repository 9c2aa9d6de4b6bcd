using System.Net.NetworkInformation;
using System.Text.Json.Nodes;
using StagNotebooks.Notebooks;

namespace StagNotebooks.Tests.Notebooks;

/// <summary>
/// `stag kernel install` registers .net-csharp with --http-local-only, and the kernel Jupyter starts from that spec
/// listens on loopback only (tests/jupyter/check_listening.py, which .ci/run also runs on the spec it registers).
/// </summary>
public class JupyterKernelSpecTests
{
    /// <summary>What `dotnet interactive jupyter install` (1.0.712001) writes for C#.</summary>
    const string ToolSpec = """
        {
          "argv": ["dotnet", "interactive", "jupyter", "--default-kernel", "csharp", "{connection_file}", "--http-port-range", "2048-3000"],
          "display_name": ".NET (C#)",
          "language": "C#",
          "metadata": { "vscode": { "extension_id": "ms-dotnettools.dotnet-interactive-vscode", "kernel_id": "dotnet-interactive" } },
          "env": { "MY_SETTING": "kept" }
        }
        """;

    static string[] Argv(string kernelJson) => ((JsonArray)JsonNode.Parse(File.ReadAllText(kernelJson))!["argv"]!).Select(a => a!.GetValue<string>()).ToArray();

    [Fact]
    public void Install_writes_the_spec_with_http_local_only_and_a_second_install_changes_nothing()
    {
        using var dir = new TestPaths.TempDir();
        File.WriteAllText(dir.File("logo-32x32.png"), "32");
        File.WriteAllText(dir.File("logo-64x64.png"), "64");
        var first = JupyterKernelSpec.Install(dir.File("kernels"), logoFolder: dir.Path);
        var json = dir.File("kernels/.net-csharp/kernel.json");
        Assert.Equal((json, true, $"{json}: wrote the .NET (C#) kernelspec with --http-local-only"), (first.KernelJson, first.Changed, first.Action));
        Assert.Equal(new[] { "dotnet", "interactive", "jupyter", "--default-kernel", "csharp", "{connection_file}", "--http-local-only", "--http-port-range", "2048-3000" }, Argv(json));
        var spec = JsonNode.Parse(File.ReadAllText(json))!;
        Assert.Equal((".NET (C#)", "C#", "dotnet-interactive"), (spec["display_name"]!.GetValue<string>(), spec["language"]!.GetValue<string>(), spec["metadata"]!["vscode"]!["kernel_id"]!.GetValue<string>()));
        Assert.Equal("64", File.ReadAllText(dir.File("kernels/.net-csharp/logo-64x64.png")));
        var before = File.GetLastWriteTimeUtc(json);
        var second = JupyterKernelSpec.Install(dir.File("kernels"));
        Assert.Equal((false, $"{json}: already has --http-local-only"), (second.Changed, second.Action));
        Assert.Equal(before, File.GetLastWriteTimeUtc(json));
        Assert.Empty(Directory.GetFiles(dir.File("kernels/.net-csharp"), "*.tmp-*"));
    }

    [Fact]
    public void Install_adds_the_flag_to_the_spec_dotnet_interactive_wrote_and_keeps_the_rest()
    {
        using var dir = new TestPaths.TempDir();
        Directory.CreateDirectory(dir.File("kernels/.net-csharp"));
        var json = dir.File("kernels/.net-csharp/kernel.json");
        File.WriteAllText(json, ToolSpec);
        var r = JupyterKernelSpec.Install(dir.File("kernels"));
        Assert.Equal((true, $"{json}: added --http-local-only to the existing spec"), (r.Changed, r.Action));
        Assert.Equal(new[] { "dotnet", "interactive", "jupyter", "--default-kernel", "csharp", "{connection_file}", "--http-local-only", "--http-port-range", "2048-3000" }, Argv(json));
        Assert.Equal("kept", JsonNode.Parse(File.ReadAllText(json))!["env"]!["MY_SETTING"]!.GetValue<string>());
    }

    [Fact]
    public void A_damaged_spec_is_named_with_its_line_and_replace_writes_the_default()
    {
        using var dir = new TestPaths.TempDir();
        Directory.CreateDirectory(dir.File("kernels/.net-csharp"));
        var json = dir.File("kernels/.net-csharp/kernel.json");
        File.WriteAllText(json, "{\n  \"argv\": [\"dotnet\",\n}");
        var e = Assert.Throws<InvalidDataException>(() => JupyterKernelSpec.Install(dir.File("kernels")));
        Assert.Equal($"{json}: not valid JSON (line 3, byte 1); rerun with --replace to write the default spec", e.Message);
        File.WriteAllText(json, "{\"argv\": \"dotnet interactive jupyter\"}");
        e = Assert.Throws<InvalidDataException>(() => JupyterKernelSpec.Install(dir.File("kernels")));
        Assert.Equal($"{json}: \"argv\" is not a list of strings; rerun with --replace to write the default spec", e.Message);
        File.WriteAllText(json, "[\"dotnet\"]");
        e = Assert.Throws<InvalidDataException>(() => JupyterKernelSpec.Install(dir.File("kernels")));
        Assert.Equal($"{json}: not a JSON object; rerun with --replace to write the default spec", e.Message);
        Assert.True(JupyterKernelSpec.Install(dir.File("kernels"), replace: true).Changed);
        Assert.Contains("--http-local-only", Argv(json));
    }

    [Fact]
    public void Jupyter_finds_the_installed_spec_and_the_kernel_it_starts_listens_on_loopback_only()
    {
        var python = JupyterClient.Require(nameof(Jupyter_finds_the_installed_spec_and_the_kernel_it_starts_listens_on_loopback_only));
        if (python is null) return;
        var check = TestPaths.Repo("tests", "jupyter", "check_listening.py");

        // The detector itself: it must see a listener on 0.0.0.0 (and ::) as exposed.
        var self = JupyterClient.Run(python, new[] { check, "--self-test" }, null);
        Assert.True(self.Code == 0, self.Stdout + self.Stderr);
        Assert.Contains("self-test: the detector tells loopback from exposed listeners", self.Stdout);

        // Our rule for Jupyter's data folder is Jupyter's own.
        var dataDir = JupyterClient.Run(python, new[] { "-m", "jupyter_core.command", "--data-dir" }, null);
        if (dataDir.Code == 0 && Environment.GetEnvironmentVariable("JUPYTER_DATA_DIR") is null)
            Assert.Equal(dataDir.Stdout.Trim(), JupyterKernelSpec.UserDataDir());

        using var dir = new TestPaths.TempDir();
        var install = JupyterClient.Run("dotnet", new[] { TestPaths.Stag, "kernel", "install", "--kernels-dir", dir.File("local/kernels") }, null);
        Assert.True(install.Code == 0, install.Stdout + install.Stderr);
        Assert.Equal($"{dir.File("local/kernels/.net-csharp/kernel.json")}: wrote the .NET (C#) kernelspec with --http-local-only\n", install.Stdout);
        var env = new Dictionary<string, string> { ["JUPYTER_PATH"] = dir.File("local") };   // searched before the user's own kernels
        var listed = JupyterClient.Run(python, new[] { "-m", "jupyter_client.kernelspecapp", "list", "--json" }, env);
        Assert.Equal(dir.File("local/kernels/.net-csharp"), JsonNode.Parse(listed.Stdout)!["kernelspecs"]![".net-csharp"]!["resource_dir"]!.GetValue<string>());

        var run = JupyterClient.Run(python, new[] { check, "--kernel", ".net-csharp" }, env);
        Assert.True(run.Code == 0, run.Stdout + run.Stderr);
        Assert.Contains("--http-local-only", run.Stdout);
        Assert.Matches(@"listens on: .*127\.0\.0\.1:(2\d\d\d|30\d\d)\b", run.Stdout);   // the HTTP server, on loopback
        Assert.Contains("kernel .net-csharp: every listening socket is on loopback", run.Stdout);

        // The same kernel without the flag listens on this machine's other addresses, and the check says so.
        bool hasOtherAddress = NetworkInterface.GetAllNetworkInterfaces().Where(n => n.OperationalStatus == OperationalStatus.Up && n.NetworkInterfaceType != NetworkInterfaceType.Loopback)
            .Any(n => n.GetIPProperties().UnicastAddresses.Any(a => !System.Net.IPAddress.IsLoopback(a.Address)));
        if (!hasOtherAddress) { Console.Error.WriteLine("no non-loopback address here: the unflagged kernel is not run"); return; }
        var spec = JupyterKernelSpec.DefaultSpec();
        ((JsonArray)spec["argv"]!).RemoveAt(6);   // --http-local-only
        Directory.CreateDirectory(dir.File("exposed/kernels/.net-csharp"));
        File.WriteAllText(dir.File("exposed/kernels/.net-csharp/kernel.json"), spec.ToJsonString());
        var exposed = JupyterClient.Run(python, new[] { check, "--kernel", ".net-csharp" }, new Dictionary<string, string> { ["JUPYTER_PATH"] = dir.File("exposed") });
        Assert.True(exposed.Code == 1, exposed.Stdout + exposed.Stderr);
        Assert.Contains("listens beyond loopback on ", exposed.Stdout);
    }
}
