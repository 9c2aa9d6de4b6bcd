using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using StagNotebooks.Notebooks;
using Cell = StagNotebooks.Notebooks.NotebookDocument.Cell;

namespace StagNotebooks.Tests.Notebooks;

/// <summary>
/// `stag notebook run` hosts the .NET Interactive kernel in its own process and opens no listening socket (unlike
/// the Jupyter kernel, whose HTTP server <see cref="JupyterKernelSpecTests"/> checks).
/// </summary>
public class InProcessKernelSocketTests
{
    [Fact]
    public void The_socket_table_reader_sees_loopback_and_exposed_listeners_of_a_process()
    {
        if (!ListeningSockets.Available) { Console.Error.WriteLine("SKIPPED: no /proc/self/net (not Linux)"); return; }
        var any = new TcpListener(IPAddress.Any, 0);
        var loopback = new TcpListener(IPAddress.Loopback, 0);
        any.Start(); loopback.Start();
        try
        {
            var mine = ListeningSockets.Of(Environment.ProcessId);
            Assert.Contains(new IPEndPoint(IPAddress.Any, ((IPEndPoint)any.LocalEndpoint).Port), mine);
            Assert.Contains(new IPEndPoint(IPAddress.Loopback, ((IPEndPoint)loopback.LocalEndpoint).Port), mine);
        }
        finally { any.Stop(); loopback.Stop(); }
        Assert.Equal(new IPEndPoint(IPAddress.Loopback, 2049), ListeningSockets.Decode("0100007F:0801"));
        Assert.Equal(new IPEndPoint(IPAddress.IPv6Loopback, 2048), ListeningSockets.Decode("00000000000000000000000001000000:0800"));
    }

    [Fact]
    public async Task Stag_notebook_run_opens_no_listening_socket()
    {
        if (!ListeningSockets.Available) { Console.Error.WriteLine("SKIPPED: no /proc/self/net (not Linux)"); return; }
        using var dir = new TestPaths.TempDir();
        // Cell 1 opens one loopback listener of its own (so the reading is shown to see the kernel's process) and says
        // its port; cell 2 holds the kernel alive until the test has read the socket table.
        var nb = NotebookRunnerTests.Write(dir, "sockets.ipynb",
            Cell.Code("var own = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);\nown.Start();\n" +
                      "System.IO.File.WriteAllText(\"ready.tmp\", ((System.Net.IPEndPoint)own.LocalEndpoint).Port.ToString());\nSystem.IO.File.Move(\"ready.tmp\", \"ready\");"),
            Cell.Code("var until = DateTime.UtcNow.AddMinutes(5);\nwhile (!System.IO.File.Exists(\"done\") && DateTime.UtcNow < until) System.Threading.Thread.Sleep(50);\nown.Stop();"));
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { TestPaths.Stag, "notebook", "run", nb }) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        try
        {
            while (!File.Exists(dir.File("ready")))
                if (p.WaitForExit(100)) Assert.Fail($"stag notebook run exited {p.ExitCode} before its first cell ran:\n{await stderr}\n{await stdout}");
            int port = int.Parse(File.ReadAllText(dir.File("ready")));
            Assert.Equal(new[] { new IPEndPoint(IPAddress.Loopback, port) }, ListeningSockets.Of(p.Id));
        }
        finally
        {
            File.WriteAllText(dir.File("done"), "");
            if (!p.WaitForExit(120_000)) p.Kill(true);
        }
        Assert.True(p.ExitCode == 0, await stderr + await stdout);
    }
}
