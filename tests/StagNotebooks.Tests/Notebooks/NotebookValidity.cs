using System.Diagnostics;

namespace StagNotebooks.Tests.Notebooks;

/// <summary>Checks an executed notebook against the nbformat 4 schema.</summary>
static class NotebookValidity
{
    public static void AssertValid(string path)
    {
        var psi = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add("import sys, nbformat; nbformat.validate(nbformat.read(sys.argv[1], 4)); print('valid')");
        psi.ArgumentList.Add(path);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEnd(); var stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, stderr);
        Assert.Equal("valid", stdout.Trim());
    }
}
