using System.Diagnostics;
using StagNotebooks.Model;
using StagNotebooks.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace StagNotebooks.Decoding;

/// <summary>Output of speculative decoding: the tokens, and how many draft proposals the target accepted.</summary>
public sealed record SpeculativeResult(long[] Tokens, int Proposed, int Accepted, int TargetCalls, double TotalMs)
{
    public double AcceptanceRate => Proposed == 0 ? double.NaN : (double)Accepted / Proposed;
}

/// <summary>
/// Greedy speculative decoding (Leviathan et al. 2023; Chen et al. 2023) with a small draft model: the draft
/// proposes <see cref="Lookahead"/> tokens one by one, the target scores them all in one chunked forward, the
/// longest prefix the target would itself have chosen is kept, plus the target's own next token. The output is
/// exactly the target's greedy output; only the number of target calls changes. Batch 1; caches are rolled back
/// after a rejection, so windowed (ring) cross-attention is not supported.
/// </summary>
public sealed class SpeculativeDecoder
{
    public StagFormerModel Target { get; }
    public StagFormerModel Draft { get; }
    public int Lookahead { get; }

    public SpeculativeDecoder(StagFormerModel target, StagFormerModel draft, int lookahead = 4)
    {
        if (target.Config.VocabSize != draft.Config.VocabSize)
            throw new ArgumentException($"draft and target must share a vocabulary (draft {draft.Config.VocabSize}, target {target.Config.VocabSize})");
        if (target.Config.CrossWindow is not null || draft.Config.CrossWindow is not null)
            throw new ArgumentException("speculative decoding rolls caches back; windowed cross-attention keeps a ring that cannot be rolled back");
        if (lookahead < 1) throw new ArgumentException($"lookahead must be at least 1 (got {lookahead})");
        Target = target; Draft = draft; Lookahead = lookahead;
    }

    public SpeculativeResult Generate(Tensor prompt, int maxNewTokens, long? eosId = null)
    {
        if (prompt.shape[0] != 1) throw new ArgumentException($"speculative decoding runs one sequence at a time (prompt batch {prompt.shape[0]})");
        using var ng = torch.no_grad();
        Target.eval(); Draft.eval();   // decoding never runs dropout
        var device = prompt.device;
        int capacity = (int)prompt.shape[1] + maxNewTokens + Lookahead + 1;
        using var targetCache = Target.NewCache(1, capacity);
        using var draftCache = Draft.NewCache(1, capacity);
        var clock = Stopwatch.StartNew();
        var sequence = prompt[0].data<long>().ToList();                  // prompt + accepted tokens
        int proposed = 0, accepted = 0, targetCalls = 1;
        long next;
        using (var scope = torch.NewDisposeScope())
        {
            next = Target.forward(new ModelInput(prompt, 0, targetCache)).Logits[0, -1].argmax().item<long>();
            Draft.forward(new ModelInput(prompt, 0, draftCache));
        }
        var output = new List<long> { next };
        while (output.Count < maxNewTokens && !(eosId is long e && output[^1] == e))
        {
            using var scope = torch.NewDisposeScope();
            // The draft catches up on accepted tokens it has not seen, then proposes from `next`.
            int draftPos = draftCache.Position;
            if (draftPos < sequence.Count)
                Draft.forward(new ModelInput(Tensor1(sequence.Skip(draftPos), device), draftPos, draftCache));
            int k = Math.Min(Lookahead, maxNewTokens - output.Count);
            var proposals = new List<long>(k);
            long x = next;
            for (int j = 0; j < k; j++)
            {
                x = Draft.forward(new ModelInput(Tensor1(new[] { x }, device), draftCache.Position, draftCache)).Logits[0, -1].argmax().item<long>();
                proposals.Add(x);
            }
            // The target scores [next, p0 … p(k−1)] at once: g[j] is its choice after chunk[j].
            int targetPos = targetCache.Position;
            var chunk = new[] { next }.Concat(proposals).ToArray();
            var g = Target.forward(new ModelInput(Tensor1(chunk, device), targetPos, targetCache)).Logits[0].argmax(-1).data<long>().ToArray();
            targetCalls++;
            int a = 0;
            while (a < k && proposals[a] == g[a]) a++;
            proposed += k; accepted += a;
            sequence.Add(next);
            sequence.AddRange(proposals.Take(a));
            output.AddRange(proposals.Take(a));
            next = g[a];
            output.Add(next);
            // Keep only what the accepted sequence put in the caches.
            targetCache.Truncate(sequence.Count);
            draftCache.Truncate(Math.Min(draftCache.Position, sequence.Count));
            if (eosId is long eos && output.Contains(eos)) break;
        }
        var tokens = output.Take(maxNewTokens).ToList();
        if (eosId is long stop && tokens.IndexOf(stop) is int at && at >= 0) tokens = tokens.Take(at + 1).ToList();
        TorchRuntime.Synchronize(device);
        return new SpeculativeResult(tokens.ToArray(), proposed, accepted, targetCalls, clock.Elapsed.TotalMilliseconds);
    }

    static Tensor Tensor1(IEnumerable<long> ids, Device device)
    {
        var a = ids.ToArray();
        return torch.tensor(a, new long[] { 1, a.Length }, device: device);
    }
}
