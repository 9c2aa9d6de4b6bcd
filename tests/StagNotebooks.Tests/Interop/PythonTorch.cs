using System.Diagnostics;

namespace StagNotebooks.Tests.Interop;

/// <summary>
/// The Python that runs interop/python/stagformer.py: $STAG_PYTHON (only it, when set), else the first of /usr/bin/python3 (Debian's
/// python3-torch installs there) and python3 on PATH that imports torch. Where none does, a test that needs it
/// fails under CI=true (CI must install python3-torch) and otherwise returns early after saying so in one line.
/// </summary>
public static class PythonTorch
{
    public const string InstallHint = "apt-get install -y python3-torch python3-numpy (Debian 12: PyTorch 1.13), or set STAG_PYTHON to a python with torch";
    public static string Script => TestPaths.Repo("interop", "python", "stagformer.py");

    static readonly Lazy<string?> WithTorch = new(() => Candidates().FirstOrDefault(p => TryRun(p, new[] { "-c", "import torch, numpy" }).Code == 0));
    static readonly Lazy<string?> AnyPython = new(() => Candidates().FirstOrDefault(p => TryRun(p, new[] { "-c", "import json, struct" }).Code == 0));

    static IEnumerable<string> Candidates()
    {
        if (Environment.GetEnvironmentVariable("STAG_PYTHON") is { Length: > 0 } p) { yield return p; yield break; }   // only that one
        if (File.Exists("/usr/bin/python3")) yield return "/usr/bin/python3";
        yield return "python3";
    }

    /// <summary>The interpreter with torch, or null after failing (CI) / announcing the skip (elsewhere).</summary>
    public static string? Require(string test) => Need(WithTorch.Value, test, "no python3 with torch");

    /// <summary>Any python3 (standard library only), same rules.</summary>
    public static string? RequirePlain(string test) => Need(AnyPython.Value, test, "no python3");

    static string? Need(string? python, string test, string what)
    {
        if (python is not null) return python;
        if (Environment.GetEnvironmentVariable("CI") == "true") Assert.Fail($"{test}: {what} found, and CI must run the PyTorch interop tests: {InstallHint}");
        Console.Error.WriteLine($"SKIPPED {test}: {what} ({InstallHint})");
        return null;
    }

    /// <summary>Runs python with arguments; fails the test with its stderr when it exits non-zero.</summary>
    public static string Run(string python, params string[] args)
    {
        var (code, stdout, stderr) = TryRun(python, args);
        Assert.True(code == 0, $"{python} {string.Join(" ", args)} exited {code}:\n{stderr}\n{stdout}");
        return stdout;
    }

    /// <summary>Runs python with arguments: exit code, stdout, stderr (for tests that expect a failure).</summary>
    public static (int Code, string Stdout, string Stderr) TryRun(string python, params string[] args)
    {
        var psi = new ProcessStartInfo(python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["OMP_NUM_THREADS"] = "1";   // tiny models; the machine is shared
        try
        {
            using var p = Process.Start(psi)!;
            var stderr = p.StandardError.ReadToEndAsync();
            var stdout = p.StandardOutput.ReadToEnd();
            if (!p.WaitForExit(600_000)) { p.Kill(true); return (-1, stdout, "timed out after 600 s"); }
            return (p.ExitCode, stdout, stderr.Result);
        }
        catch (System.ComponentModel.Win32Exception e) { return (-1, "", e.Message); }
    }
}
