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
/// proposes <see cref="Lookahead"/> tokens one by one, the target scores them all in one chunked prefill, the
/// longest prefix the target would itself have chosen is kept, plus the target's own next token. The output is
/// exactly the target's greedy output; only the number of target calls changes. Runs over two decoding sessions of
/// any engines that can prefill after steps and roll back (<see cref="IDecodeSession.Truncate"/>). Batch 1; caches are
/// rolled back after a rejection, so windowed (ring) cross-attention is not supported.
/// </summary>
public sealed class SpeculativeDecoder
{
    public StagFormerModel Target { get; }
    public StagFormerModel Draft { get; }
    public int Lookahead { get; }
    /// <summary>The engines the target and the draft decode with (default: sequential).</summary>
    public EngineKind TargetEngine { get; }
    public EngineKind DraftEngine { get; }

    public SpeculativeDecoder(StagFormerModel target, StagFormerModel draft, int lookahead = 4,
                              EngineKind targetEngine = EngineKind.Sequential, EngineKind draftEngine = EngineKind.Sequential)
    {
        if (target.Config.VocabSize != draft.Config.VocabSize)
            throw new ArgumentException($"draft and target must share a vocabulary (draft {draft.Config.VocabSize}, target {target.Config.VocabSize})");
        if (target.Config.CrossWindow is not null || draft.Config.CrossWindow is not null)
            throw new ArgumentException("speculative decoding rolls caches back; windowed cross-attention keeps a ring that cannot be rolled back");
        if (lookahead < 1) throw new ArgumentException($"lookahead must be at least 1 (got {lookahead})");
        Target = target; Draft = draft; Lookahead = lookahead; TargetEngine = targetEngine; DraftEngine = draftEngine;
    }

    public SpeculativeResult Generate(Tensor prompt, int maxNewTokens, long? eosId = null)
    {
        int capacity = (int)prompt.shape[1] + maxNewTokens + Lookahead + 1;
        using var targetEngine = EngineKinds.Create(Target, TargetEngine);
        using var draftEngine = EngineKinds.Create(Draft, DraftEngine);
        using var target = targetEngine.Start(1, capacity);
        using var draft = draftEngine.Start(1, capacity);
        return Generate(target, draft, prompt, maxNewTokens, eosId, Lookahead);
    }

    /// <summary>Speculative decoding over two fresh sessions (batch 1, room for prompt + maxNewTokens + lookahead + 1).</summary>
    public static SpeculativeResult Generate(IDecodeSession target, IDecodeSession draft, Tensor prompt, int maxNewTokens, long? eosId = null, int lookahead = 4)
    {
        if (prompt.shape[0] != 1) throw new ArgumentException($"speculative decoding runs one sequence at a time (prompt batch {prompt.shape[0]})");
        var device = prompt.device;
        var clock = Stopwatch.StartNew();
        var state = new State(prompt[0].data<long>().ToList());
        using (var scope = torch.NewDisposeScope())
        {
            state.Output.Add(target.Prefill(prompt)[0, -1].argmax().item<long>());
            draft.Prefill(prompt);
        }
        while (state.Output.Count < maxNewTokens && !(eosId is long e && state.Output[^1] == e))
        {
            Round(target, draft, state, Math.Min(lookahead, maxNewTokens - state.Output.Count), device);
            if (eosId is long eos && state.Output.Contains(eos)) break;
        }
        var tokens = state.Output.Take(maxNewTokens).ToList();
        if (eosId is long stop && tokens.IndexOf(stop) is int at && at >= 0) tokens = tokens.Take(at + 1).ToList();
        TorchRuntime.Synchronize(device);
        return new SpeculativeResult(tokens.ToArray(), state.Proposed, state.Accepted, state.TargetCalls, clock.Elapsed.TotalMilliseconds);
    }

    /// <summary>Sequence: prompt + accepted tokens (what the caches may hold); Output: the tokens generated, the last one not yet in any cache.</summary>
    sealed class State(List<long> sequence)
    {
        public readonly List<long> Sequence = sequence;
        public readonly List<long> Output = new();
        public int Proposed, Accepted, TargetCalls = 1;
    }

    /// <summary>One round: the draft proposes k tokens after the last output, the target checks them in one call, both roll back.</summary>
    static void Round(IDecodeSession target, IDecodeSession draft, State st, int k, Device device)
    {
        using var scope = torch.NewDisposeScope();
        long next = st.Output[^1];
        // The draft catches up on accepted tokens it has not seen, then proposes from `next`.
        if (draft.Position < st.Sequence.Count) draft.Prefill(Tensor1(st.Sequence.Skip(draft.Position), device));
        var proposals = new List<long>(k);
        long x = next;
        for (int j = 0; j < k; j++)
        {
            x = draft.Step(Tensor1(new[] { x }, device))[0].argmax().item<long>();
            proposals.Add(x);
        }
        // The target scores [next, p0 … p(k−1)] at once: g[j] is its choice after chunk[j].
        var chunk = new[] { next }.Concat(proposals).ToArray();
        var g = target.Prefill(Tensor1(chunk, device))[0].argmax(-1).data<long>().ToArray();
        st.TargetCalls++;
        int a = 0;
        while (a < k && proposals[a] == g[a]) a++;
        st.Proposed += k; st.Accepted += a;
        st.Sequence.Add(next);
        st.Sequence.AddRange(proposals.Take(a));
        st.Output.AddRange(proposals.Take(a));
        st.Output.Add(g[a]);
        // Keep only what the accepted sequence put in the caches.
        target.Truncate(st.Sequence.Count);
        draft.Truncate(Math.Min(draft.Position, st.Sequence.Count));
    }

    static Tensor Tensor1(IEnumerable<long> ids, Device device)
    {
        var a = ids.ToArray();
        return torch.tensor(a, new long[] { 1, a.Length }, device: device);
    }
}
