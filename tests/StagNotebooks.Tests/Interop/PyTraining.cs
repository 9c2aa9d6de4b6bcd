using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace StagNotebooks.Tests.Interop;

/// <summary>
/// Runs interop/python/train.py as the tests need it: one plain process, or torchrun with N gloo ranks on this machine's
/// loopback only (inside interop/python/loopback.py's private network namespace where the machine allows one: PyTorch
/// 1.13's rendezvous store listens on every interface otherwise). Reads its metrics.jsonl; finds and kills its ranks.
/// </summary>
public static class PyTraining
{
    public static string TrainScript => TestPaths.Repo("interop", "python", "train.py");
    public static string PackedScript => TestPaths.Repo("interop", "python", "packed.py");
    public static string LoopbackScript => TestPaths.Repo("interop", "python", "loopback.py");

    /// <summary>One line of metrics.jsonl.</summary>
    /// <param name="RankLosses">each rank's loss on its own rows of the global batch (their mean is <paramref name="Loss"/>)</param>
    public sealed record Row(int Step, double Loss, double LearningRate, double GradNorm, double? ValLoss, int World, double[] RankLosses);

    public static IReadOnlyList<Row> ReadMetrics(string outDir)
    {
        var path = Path.Combine(outDir, "metrics.jsonl");
        if (!File.Exists(path)) return Array.Empty<Row>();
        var rows = new List<Row>();
        foreach (var line in File.ReadAllLines(path).Where(l => l.Trim().Length > 0))
        {
            JsonElement e;
            try { e = JsonDocument.Parse(line).RootElement; }
            catch (JsonException) { break; }   // a line being written right now
            rows.Add(new Row(e.GetProperty("step").GetInt32(), e.GetProperty("loss").GetDouble(), e.GetProperty("lr").GetDouble(),
                e.GetProperty("grad_norm").GetDouble(), e.TryGetProperty("val_loss", out var v) ? v.GetDouble() : null, e.GetProperty("world").GetInt32(),
                e.GetProperty("rank_losses").EnumerateArray().Select(x => x.GetDouble()).ToArray()));
        }
        return rows;
    }

    /// <summary>A TCP port free on 127.0.0.1 right now.</summary>
    public static int FreePort()
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        int port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }

    static readonly object Probe = new();
    static bool? _privateNetwork;

    /// <summary>Whether loopback.py can make a private network namespace here (unprivileged user namespaces).</summary>
    public static bool PrivateNetwork(string python)
    {
        lock (Probe)
        {
            if (_privateNetwork is bool b) return b;
            var psi = new ProcessStartInfo(python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var a in new[] { LoopbackScript, "true" }) psi.ArgumentList.Add(a);
            using var p = Process.Start(psi)!;
            var err = p.StandardError.ReadToEndAsync();
            p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            _privateNetwork = p.ExitCode == 0;
            if (p.ExitCode != 0)
                Console.Error.WriteLine($"NOTE: no private network namespace here ({err.Result.Trim()}); torchrun runs with --master_addr=127.0.0.1 " +
                                        "and GLOO_SOCKET_IFNAME=lo, but PyTorch 1.13's rendezvous store listens on every interface while it runs");
            return _privateNetwork.Value;
        }
    }

    /// <summary>train.py running: its output so far, its exit, its ranks.</summary>
    public sealed class Launched : IDisposable
    {
        readonly StringBuilder _output = new();
        public Process Process { get; }
        public string CommandLine { get; }

        internal Launched(ProcessStartInfo psi)
        {
            CommandLine = psi.FileName + " " + string.Join(" ", psi.ArgumentList);
            Process = Process.Start(psi)!;
            Process.OutputDataReceived += (_, e) => { if (e.Data != null) lock (_output) _output.AppendLine(e.Data); };
            Process.ErrorDataReceived += (_, e) => { if (e.Data != null) lock (_output) _output.AppendLine(e.Data); };
            Process.BeginOutputReadLine();
            Process.BeginErrorReadLine();
        }

        public string Output { get { lock (_output) return _output.ToString(); } }

        /// <summary>Waits for the exit (failing the test after <paramref name="seconds"/>) and returns the exit code.</summary>
        public int Wait(int seconds = 600)
        {
            if (!Process.WaitForExit(seconds * 1000))
            {
                Process.Kill(entireProcessTree: true);
                Assert.Fail($"{CommandLine} still running after {seconds} s:\n{Output}");
            }
            Process.WaitForExit();   // drains the output
            return Process.ExitCode;
        }

        /// <summary>Waits for a clean exit; fails the test with the output otherwise.</summary>
        public void Succeed(int seconds = 600)
        {
            int code = Wait(seconds);
            Assert.True(code == 0, $"{CommandLine} exited {code}:\n{Output}");
        }

        /// <summary>The worker processes torchrun started (children of the agent), by their RANK.</summary>
        public IReadOnlyDictionary<int, int> Ranks()
        {
            var ranks = new Dictionary<int, int>();
            foreach (var dir in Directory.GetDirectories("/proc"))
            {
                if (!int.TryParse(Path.GetFileName(dir), out int pid)) continue;
                try
                {
                    var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                    var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');   // after "pid (comm) ": state, ppid, ...
                    if (int.Parse(fields[1]) != Process.Id) continue;
                    var env = File.ReadAllText(Path.Combine(dir, "environ")).Split('\0');
                    if (env.FirstOrDefault(v => v.StartsWith("RANK=", StringComparison.Ordinal)) is { } r) ranks[int.Parse(r[5..])] = pid;
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException) { /* gone meanwhile */ }
            }
            return ranks;
        }

        public void Dispose()
        {
            try { if (!Process.HasExited) Process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            Process.Dispose();
        }
    }

    /// <summary>
    /// Starts train.py on <paramref name="processes"/> processes: 1 = plain python; more = torchrun with gloo ranks on
    /// the loopback (a free port on 127.0.0.1, inside a private network namespace where possible).
    /// </summary>
    public static Launched Start(string python, int processes, string config, string data, string outDir,
                                 IEnumerable<string>? extra = null, IReadOnlyDictionary<string, string>? env = null)
    {
        var psi = new ProcessStartInfo(python) { WorkingDirectory = TestPaths.RepoRoot, UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        var args = new List<string>();
        if (processes > 1)
        {
            if (PrivateNetwork(python)) args.AddRange(new[] { LoopbackScript, python });
            args.AddRange(new[] { "-m", "torch.distributed.run", "--nnodes=1", $"--nproc_per_node={processes}", "--master_addr=127.0.0.1",
                $"--master_port={FreePort()}", "--max_restarts=0", "--monitor_interval=1",
                // Debian 12's torchrun (PyTorch 1.13 on Python 3.11) fails in to_map unless redirects/tee are 1 or 2.
                "--redirects=1", "--tee=1", "--log_dir", Path.Combine(outDir + ".torchrun-logs") });
        }
        args.AddRange(new[] { TrainScript, "--config", config, "--data", data, "--out", outDir });
        if (extra != null) args.AddRange(extra);
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["OMP_NUM_THREADS"] = "1";
        psi.Environment["GLOO_SOCKET_IFNAME"] = "lo";
        psi.Environment["PYTHONUNBUFFERED"] = "1";
        psi.Environment["STAG_DIST_TIMEOUT"] = "120";
        if (env != null) foreach (var (k, v) in env) psi.Environment[k] = v;
        return new Launched(psi);
    }
}
