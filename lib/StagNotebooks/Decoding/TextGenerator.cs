using TorchSharp;
using static TorchSharp.torch;

namespace StagNotebooks.Decoding;

/// <summary>Tokens generated per sequence (prompt excluded), and wall-clock times.</summary>
public sealed record GenerationResult(long[][] Tokens, double PrefillMs, IReadOnlyList<double> StepMs);

public static class TextGenerator
{
    /// <summary>
    /// Prefills <paramref name="prompt"/> (B, T), then generates until every sequence has produced
    /// <paramref name="eosId"/> or <paramref name="maxNewTokens"/> tokens. Finished sequences keep receiving EOS.
    /// Times are taken after a device synchronisation.
    /// </summary>
    public static GenerationResult Generate(IDecodingEngine engine, Tensor prompt, int maxNewTokens, long? eosId = null, SamplingOptions? sampling = null)
    {
        using var session = engine.Start(prompt.shape[0], (int)prompt.shape[1] + maxNewTokens);
        return Generate(session, prompt, maxNewTokens, eosId, sampling);
    }

    /// <summary>The same over a session (of any engine) that has room for the prompt and the new tokens from its position.</summary>
    public static GenerationResult Generate(IDecodeSession session, Tensor prompt, int maxNewTokens, long? eosId = null, SamplingOptions? sampling = null)
    {
        sampling ??= SamplingOptions.Greedy;
        long b = prompt.shape[0];
        var device = prompt.device;
        using var generator = sampling.Temperature > 0 ? new Generator((ulong)sampling.Seed, device) : null;
        var output = Enumerable.Range(0, (int)b).Select(_ => new List<long>()).ToArray();
        var finished = new bool[b];
        var steps = new List<double>();

        var sw = System.Diagnostics.Stopwatch.StartNew();
        Tensor next;
        using (var scope = torch.NewDisposeScope())
        {
            var logits = session.Prefill(prompt);
            next = sampling.Sample(logits.select(1, -1), generator).MoveToOuterDisposeScope();
            Runtime.TorchRuntime.Synchronize(device);
        }
        double prefillMs = sw.Elapsed.TotalMilliseconds;
        for (int i = 0; i < maxNewTokens; i++)
        {
            var ids = next.data<long>().ToArray();
            for (int r = 0; r < b; r++)
            {
                if (finished[r]) continue;
                output[r].Add(ids[r]);
                if (eosId is long eos && ids[r] == eos) finished[r] = true;
            }
            if (i == maxNewTokens - 1 || finished.All(f => f)) { next.Dispose(); break; }
            if (eosId is long e && finished.Any(f => f))
            {
                for (int r = 0; r < b; r++) if (finished[r]) ids[r] = e;
                next.Dispose();
                next = torch.tensor(ids, new long[] { b, 1 }, device: device);
            }
            sw.Restart();
            using var scope = torch.NewDisposeScope();
            var stepLogits = session.Step(next);
            var sampled = sampling.Sample(stepLogits, generator).MoveToOuterDisposeScope();
            Runtime.TorchRuntime.Synchronize(device);
            steps.Add(sw.Elapsed.TotalMilliseconds);
            next.Dispose();
            next = sampled;
        }
        return new GenerationResult(output.Select(o => o.ToArray()).ToArray(), prefillMs, steps);
    }
}
