using System.Diagnostics;

namespace StagNotebooks.Tests.Notebooks;

/// <summary>
/// What the Jupyter tests need: Debian's python3 with jupyter_client and the .NET Interactive tool the kernelspec
/// starts. Where either is missing, a test that needs them fails under CI=true (.ci/run installs both) and otherwise
/// returns early after saying so in one line, as the PyTorch interop tests do.
/// </summary>
public static class JupyterClient
{
    public const string InstallHint = "apt-get install -y jupyter-client python3-ipykernel and " +
                                      "dotnet tool install -g Microsoft.dotnet-interactive --version 1.0.712001";
    public static string Tools => Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".dotnet", "tools");

    static readonly Lazy<string?> Python = new(() =>
        new[] { "/usr/bin/python3", "python3" }.FirstOrDefault(p => Run(p, new[] { "-c", "import jupyter_client" }, null).Code == 0));

    /// <summary>The python with jupyter_client, or null after failing (CI) / announcing the skip (elsewhere).</summary>
    public static string? Require(string test)
    {
        string? missing = Python.Value is null ? "no python3 with jupyter_client"
            : !File.Exists(Path.Combine(Tools, "dotnet-interactive")) ? $"no dotnet-interactive tool in {Tools}" : null;
        if (missing is null) return Python.Value;
        if (Environment.GetEnvironmentVariable("CI") == "true") Assert.Fail($"{test}: {missing}, and CI must check what the Jupyter kernel exposes: {InstallHint}");
        Console.Error.WriteLine($"SKIPPED {test}: {missing} ({InstallHint})");
        return null;
    }

    /// <summary>Runs a program with extra environment variables (PATH gains the dotnet tools folder); returns its exit code and output.</summary>
    public static (int Code, string Stdout, string Stderr) Run(string program, IEnumerable<string> args, IReadOnlyDictionary<string, string>? env)
    {
        var psi = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["PATH"] = Environment.GetEnvironmentVariable("PATH") + Path.PathSeparator + Tools;
        foreach (var (k, v) in env ?? new Dictionary<string, string>()) psi.Environment[k] = v;
        try
        {
            using var p = Process.Start(psi)!;
            var stderr = p.StandardError.ReadToEndAsync();
            var stdout = p.StandardOutput.ReadToEnd();
            if (!p.WaitForExit(300_000)) { p.Kill(true); return (-1, stdout, "timed out after 300 s"); }
            return (p.ExitCode, stdout, stderr.Result);
        }
        catch (System.ComponentModel.Win32Exception e) { return (-1, "", e.Message); }
    }
}
