using StagNotebooks.Model;

namespace StagNotebooks.Evaluation.Synthetic;

/// <summary>
/// The synthetic tasks, each needing a known depth of composition at the answer position:
/// <list type="bullet">
/// <item><b>Induction</b>: a segment repeats; at each token of the repeat, predict the token that followed it the
/// first time (one hop through a previous-token feature: the classic 2-layer circuit).</item>
/// <item><b>AssociativeRecall</b>: key-value pairs, then queries "k ?" answered by k's value (one lookup at the
/// current token, keys and values from disjoint alphabets).</item>
/// <item><b>PointerChase</b>: a table "a f(a)" of a random permutation f, then queries "s ?" answered by f^k(s):
/// k lookups chained at the current token.</item>
/// <item><b>Compose</b>: a stream of symbols; at every position the answer is a chain of k fixed random functions
/// of the last k symbols, h₁ = g₁(x_{i−k+1}), h_j = g_j((h_{j−1} + x_{i−k+j}) mod m). Depth of processing, but of
/// tokens a staggered model may start on one step early.</item>
/// </list>
/// </summary>
public enum SyntheticTaskKind { Induction, AssociativeRecall, PointerChase, Compose }

/// <summary>A task and its depth parameter (hops for PointerChase, chained functions for Compose); parsed from "pointer-2".</summary>
public sealed record SyntheticTaskSpec(SyntheticTaskKind Kind, int Depth = 1)
{
    public string Name => Kind switch
    {
        SyntheticTaskKind.Induction => "induction",
        SyntheticTaskKind.AssociativeRecall => "recall",
        SyntheticTaskKind.PointerChase => $"pointer-{Depth}",
        SyntheticTaskKind.Compose => $"compose-{Depth}",
        _ => throw new ArgumentOutOfRangeException(nameof(Kind)),
    };

    public static readonly IReadOnlyList<string> Defaults = new[] { "induction", "recall", "pointer-2", "compose-3" };

    public static SyntheticTaskSpec Parse(string name)
    {
        var n = name.Trim().ToLowerInvariant();
        int dash = n.LastIndexOf('-');
        int depth = 1;
        if (dash > 0 && int.TryParse(n[(dash + 1)..], out var d)) { depth = d; n = n[..dash]; }
        var kind = n switch
        {
            "induction" => SyntheticTaskKind.Induction,
            "recall" => SyntheticTaskKind.AssociativeRecall,
            "pointer" => SyntheticTaskKind.PointerChase,
            "compose" => SyntheticTaskKind.Compose,
            _ => throw new ConfigException("task", $"unknown synthetic task '{name}'; known: induction, recall, pointer-K, compose-K"),
        };
        if (depth < 1 || depth > 8) throw new ConfigException("task", $"'{name}': depth must be in 1..8 (got {depth})");
        if (kind is SyntheticTaskKind.Induction or SyntheticTaskKind.AssociativeRecall && depth != 1)
            throw new ConfigException("task", $"'{name}': {n} takes no depth");
        return new SyntheticTaskSpec(kind, depth);
    }

    /// <summary>The task at sequence length <paramref name="length"/> over token ids [0, <paramref name="vocab"/>).</summary>
    public ISyntheticTask Create(int vocab, int length) => Kind switch
    {
        SyntheticTaskKind.Induction => new InductionTask(vocab, length),
        SyntheticTaskKind.AssociativeRecall => new RecallTask(vocab, length),
        SyntheticTaskKind.PointerChase => new PointerChaseTask(vocab, length, Depth),
        SyntheticTaskKind.Compose => new ComposeTask(vocab, length, Depth),
        _ => throw new ArgumentOutOfRangeException(nameof(Kind)),
    };
}

/// <summary>
/// One sequence: input tokens (length T) and the positions whose output is scored, with the answer at each. For
/// induction, recall and pointer chasing the answer is also the next input token (so decoding can produce it).
/// </summary>
public sealed record SyntheticSample(long[] Tokens, int[] AnswerPositions, long[] Answers);

public interface ISyntheticTask
{
    string Name { get; }
    int Length { get; }
    /// <summary>A sample drawn from <paramref name="rng"/>; <paramref name="instance"/> (a seed) fixes per-run structure (Compose's functions).</summary>
    SyntheticSample Generate(Random rng, int instance);
    /// <summary>Brute force, from tokens[0..q] only: the answer at position q (throws if the prefix does not determine one).</summary>
    long Solve(ReadOnlySpan<long> prefix, int instance);
    /// <summary>Accuracy of always guessing the most frequent answer class (the chance level the table reports).</summary>
    double Chance { get; }
}

static class Draw
{
    /// <summary>k distinct values from [lo, hi), in random order.</summary>
    public static long[] Distinct(Random rng, long lo, long hi, int k)
    {
        var all = Enumerable.Range(0, (int)(hi - lo)).Select(i => lo + i).ToArray();
        if (k > all.Length) throw new ArgumentException($"cannot draw {k} distinct tokens from [{lo}, {hi})");
        rng.Shuffle(all);
        return all[..k];
    }

    public static void Need(bool ok, string why) { if (!ok) throw new ConfigException("task", why); }
}

/// <summary>Noise, a segment S of distinct tokens, noise, S again; answers at S's second copy (but its last token).</summary>
public sealed class InductionTask : ISyntheticTask
{
    readonly int _vocab, _segment;
    public InductionTask(int vocab, int length)
    {
        Length = length; _vocab = vocab; _segment = Math.Max(3, length / 5);
        Draw.Need(length >= 2 * _segment + 2, $"induction needs length ≥ {2 * _segment + 2} (got {length})");
        Draw.Need(vocab >= 2 * _segment + 2, $"induction at length {length} needs a vocabulary of ≥ {2 * _segment + 2} (got {vocab})");
    }
    public string Name => "induction";
    public int Length { get; }
    public double Chance => 1.0 / (_vocab - 1);

    public SyntheticSample Generate(Random rng, int instance)
    {
        int m = _segment, t = Length;
        var seg = Draw.Distinct(rng, 1, _vocab, m);
        var noiseAlphabet = Enumerable.Range(1, _vocab - 1).Select(i => (long)i).Except(seg).ToArray();
        var tokens = Enumerable.Range(0, t).Select(_ => noiseAlphabet[rng.Next(noiseAlphabet.Length)]).ToArray();
        int a = rng.Next(0, t - 2 * m);                       // first copy at [a, a+m)
        int b = rng.Next(a + m + 1, t - m + 1);               // second copy at [b, b+m), at least one noise token between
        for (int j = 0; j < m; j++) { tokens[a + j] = seg[j]; tokens[b + j] = seg[j]; }
        var pos = Enumerable.Range(b, m - 1).ToArray();
        return new SyntheticSample(tokens, pos, pos.Select(q => seg[q - b + 1]).ToArray());
    }

    public long Solve(ReadOnlySpan<long> prefix, int instance)
    {
        // The token after the one earlier occurrence of the current token.
        int q = prefix.Length - 1;
        long found = -1; int count = 0;
        for (int j = 0; j < q; j++) if (prefix[j] == prefix[q]) { found = prefix[j + 1]; count++; }
        if (count != 1) throw new InvalidOperationException($"induction: token {prefix[q]} at {q} occurs {count} times before it");
        return found;
    }
}

/// <summary>n pairs "k v" (distinct keys), a separator 0, then queries "k v" over the same keys; answers at the query keys.</summary>
public sealed class RecallTask : ISyntheticTask
{
    readonly int _vocab, _pairs, _keys;
    public RecallTask(int vocab, int length)
    {
        Length = length; _vocab = vocab; _pairs = Math.Max(2, length / 4); _keys = Math.Max(_pairs, (vocab - 1) * 3 / 8);
        Draw.Need(length >= 2 * _pairs + 3, $"recall needs length ≥ {2 * _pairs + 3} (got {length})");
        Draw.Need(vocab - 1 - _keys >= 2, $"recall needs a vocabulary of ≥ {_keys + 3} (got {vocab})");
    }
    public string Name => "recall";
    public int Length { get; }
    public double Chance => 1.0 / (_vocab - 1 - _keys);

    public SyntheticSample Generate(Random rng, int instance)
    {
        var keys = Draw.Distinct(rng, 1, 1 + _keys, _pairs);
        var values = keys.Select(_ => (long)(1 + _keys + rng.Next(_vocab - 1 - _keys))).ToArray();
        var tokens = new List<long>(Length);
        for (int i = 0; i < _pairs; i++) { tokens.Add(keys[i]); tokens.Add(values[i]); }
        tokens.Add(0);
        var pos = new List<int>(); var ans = new List<long>();
        var order = Enumerable.Range(0, _pairs).ToArray();
        while (tokens.Count < Length)
        {
            rng.Shuffle(order);
            foreach (var i in order)
            {
                if (tokens.Count >= Length) break;
                pos.Add(tokens.Count); ans.Add(values[i]); tokens.Add(keys[i]);
                if (tokens.Count < Length) tokens.Add(values[i]);
            }
        }
        return new SyntheticSample(tokens.ToArray(), pos.ToArray(), ans.ToArray());
    }

    public long Solve(ReadOnlySpan<long> prefix, int instance)
    {
        int q = prefix.Length - 1, sep = prefix.IndexOf(0L);
        if (sep < 0 || q <= sep) throw new InvalidOperationException($"recall: position {q} is not after the separator");
        for (int j = 0; j + 1 < sep; j += 2) if (prefix[j] == prefix[q]) return prefix[j + 1];
        throw new InvalidOperationException($"recall: key {prefix[q]} is not in the table");
    }
}

/// <summary>A table "a f(a)" over N nodes (f a random permutation), separator 0, then queries "s f^k(s)"; answers at s.</summary>
public sealed class PointerChaseTask : ISyntheticTask
{
    readonly int _nodes, _hops;
    public PointerChaseTask(int vocab, int length, int hops)
    {
        Length = length; _hops = hops; _nodes = Math.Min(vocab - 1, Math.Max(2, length / 4));
        Draw.Need(length >= 2 * _nodes + 3, $"pointer chasing needs length ≥ {2 * _nodes + 3} (got {length})");
        Draw.Need(vocab >= 3, $"pointer chasing needs a vocabulary of ≥ 3 (got {vocab})");
    }
    public string Name => $"pointer-{_hops}";
    public int Length { get; }
    public double Chance => 1.0 / _nodes;

    public SyntheticSample Generate(Random rng, int instance)
    {
        var nodes = Draw.Distinct(rng, 1, 1 + _nodes, _nodes);
        var image = Draw.Distinct(rng, 1, 1 + _nodes, _nodes);
        var f = nodes.Zip(image).ToDictionary(p => p.First, p => p.Second);
        long Chase(long s) { for (int i = 0; i < _hops; i++) s = f[s]; return s; }
        var tokens = new List<long>(Length);
        foreach (var a in nodes) { tokens.Add(a); tokens.Add(f[a]); }
        tokens.Add(0);
        var pos = new List<int>(); var ans = new List<long>();
        var starts = nodes.ToArray();
        while (tokens.Count < Length)
        {
            rng.Shuffle(starts);
            foreach (var s in starts)
            {
                if (tokens.Count >= Length) break;
                pos.Add(tokens.Count); ans.Add(Chase(s)); tokens.Add(s);
                if (tokens.Count < Length) tokens.Add(Chase(s));
            }
        }
        return new SyntheticSample(tokens.ToArray(), pos.ToArray(), ans.ToArray());
    }

    public long Solve(ReadOnlySpan<long> prefix, int instance)
    {
        int q = prefix.Length - 1, sep = prefix.IndexOf(0L);
        if (sep < 0 || q <= sep) throw new InvalidOperationException($"pointer: position {q} is not after the separator");
        long s = prefix[q];
        for (int hop = 0; hop < _hops; hop++)
        {
            long next = -1;
            for (int j = 0; j + 1 < sep; j += 2) if (prefix[j] == s) { next = prefix[j + 1]; break; }
            if (next < 0) throw new InvalidOperationException($"pointer: node {s} has no entry in the table");
            s = next;
        }
        return s;
    }
}

/// <summary>
/// Symbols 1..m at every position; the answer at i ≥ k−1 chains k fixed random permutations g_j of [0, m) over the
/// last k symbols. The permutations are drawn once per run from the instance generator (one task per seed).
/// </summary>
public sealed class ComposeTask : ISyntheticTask
{
    public const int Alphabet = 8;
    readonly int _depth;
    public ComposeTask(int vocab, int length, int depth)
    {
        Length = length; _depth = depth;
        Draw.Need(vocab > Alphabet, $"compose needs a vocabulary of ≥ {Alphabet + 1} (got {vocab})");
        Draw.Need(length > depth, $"compose-{depth} needs length > {depth} (got {length})");
    }
    public string Name => $"compose-{_depth}";
    public int Length { get; }
    public double Chance => 1.0 / Alphabet;

    /// <summary>The k permutations, drawn from the instance seed, so every call sees the same ones.</summary>
    int[][] Functions(int instance)
    {
        var r = new Random(instance);
        return Enumerable.Range(0, _depth).Select(_ => { var p = Enumerable.Range(0, Alphabet).ToArray(); r.Shuffle(p); return p; }).ToArray();
    }

    long Chain(ReadOnlySpan<long> window, int[][] g)
    {
        int h = g[0][window[0] - 1];
        for (int j = 1; j < _depth; j++) h = g[j][(h + (int)(window[j] - 1)) % Alphabet];
        return h + 1;
    }

    public SyntheticSample Generate(Random rng, int instance)
    {
        var g = Functions(instance);
        var tokens = Enumerable.Range(0, Length).Select(_ => (long)(1 + rng.Next(Alphabet))).ToArray();
        var pos = Enumerable.Range(_depth - 1, Length - _depth + 1).ToArray();
        return new SyntheticSample(tokens, pos, pos.Select(i => Chain(tokens.AsSpan(i - _depth + 1, _depth), g)).ToArray());
    }

    public long Solve(ReadOnlySpan<long> prefix, int instance)
    {
        // Brute force: for each link, try every symbol and keep those the tables allow (exactly one must remain).
        var g = Functions(instance);
        int q = prefix.Length - 1;
        if (q < _depth - 1) throw new InvalidOperationException($"compose: position {q} has fewer than {_depth} symbols before it");
        var w = prefix.Slice(q - _depth + 1, _depth).ToArray();
        int h = -1;
        for (int j = 0; j < _depth; j++)
        {
            var ok = new List<int>();
            for (int cand = 0; cand < Alphabet; cand++)
                for (int a = 0; a < Alphabet; a++)
                    if (a == (j == 0 ? (int)(w[0] - 1) : (h + (int)(w[j] - 1)) % Alphabet) && g[j][a] == cand) ok.Add(cand);
            h = ok.Single();
        }
        return h + 1;
    }
}
