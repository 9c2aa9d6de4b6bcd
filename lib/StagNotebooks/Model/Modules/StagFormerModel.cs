using StagNotebooks.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace StagNotebooks.Model;

public sealed record ModelInput(Tensor Tokens, int Start = 0, StagCache? Cache = null, bool KeepStackOutputs = false);

/// <param name="Logits">(B, T, V)</param>
/// <param name="StackOutputs">each pass's final output (B, T, d), when asked for</param>
public sealed record ModelOutput(Tensor Logits, IReadOnlyList<Tensor>? StackOutputs);

/// <summary>
/// StagFormer with p stacks (p = 1: the baseline Transformer). Every stack reads the token embeddings E; stack s
/// cross-attends to stack s−1's final output at positions ≤ i−1. Teacher-forced forward runs the stacks one
/// after another; decoding engines run a step's passes through <see cref="TransformerBlock.Step"/>.
/// Shared weights: one stack of blocks (plus one set of cross-attention sublayers) used by every pass.
/// </summary>
public sealed class StagFormerModel : nn.Module<ModelInput, ModelOutput>
{
    public StagFormerConfig Config { get; }
    public Embedding tok_embeddings;
    public Embedding? pos_embeddings;
    public ModuleList<LayerStack> stacks;
    public RMSNorm final_norm;
    public Linear? lm_head;
    public Parameter? stack_mix;
    public RotaryEmbedding? rope;
    public Dropout? embed_dropout;

    static readonly object SeedLock = new();

    public StagFormerModel(StagFormerConfig config, long seed = 0) : base(nameof(StagFormerModel))
    {
        Config = config.Validate();
        var c = Config;
        // No dispose scope here: parameters created inside one would be disposed with it. The lock keeps two models
        // built at once on two threads (tests, notebooks) from interleaving their draws from torch's global generator.
        lock (SeedLock)
        {
            torch.manual_seed(seed);
            tok_embeddings = nn.Embedding(c.VocabSize, c.DModel);
            if (c.Positional == PositionalEncoding.Learned) pos_embeddings = nn.Embedding(c.MaxContext, c.DModel);
            int count = c.Weights == WeightSharing.Shared ? 1 : c.Stacks;
            stacks = nn.ModuleList(Enumerable.Range(0, count)
                .Select(s => new LayerStack(c, s, withCross: c.Weights == WeightSharing.Shared ? c.Stacks > 1 : s > 0)).ToArray());
            final_norm = new RMSNorm(c.DModel, c.NormEps);
            if (!c.TiedEmbeddings) lm_head = nn.Linear(c.DModel, c.VocabSize, hasBias: false);
            if (c.Combination == StackCombination.LearnedLinear)
            {
                var init = torch.zeros(c.Stacks); init[c.Stacks - 1] = 1;   // starts as "last stack only"
                stack_mix = nn.Parameter(init);
            }
            if (c.Positional == PositionalEncoding.Rope) rope = new RotaryEmbedding(c.HeadDim, c.MaxContext, c.RopeTheta);
            if (c.Dropout > 0) embed_dropout = nn.Dropout(c.Dropout);
            RegisterComponents();
            Initialize();
        }
    }

    // GPT-2 style: N(0, 0.02), output projections scaled down by the depth of a residual stream (Config.ResidualInit);
    // cross-attention outputs at zero with Config.ZeroInitCrossOutput; a cross gate stays at 0 (tanh 0 = closed).
    void Initialize()
    {
        using var _ = torch.no_grad();
        int depth = Config.ResidualInit == ResidualInitScale.StackDepth ? Config.LayersPerStack : Config.TotalLayers;
        double outStd = 0.02 / Math.Sqrt(2.0 * depth);
        foreach (var (name, p) in named_parameters())
        {
            if (name.EndsWith("norm.weight", StringComparison.Ordinal) || name == "stack_mix" || name.Contains("null_") || name.EndsWith("cross_gate", StringComparison.Ordinal)) continue;   // the gate starts closed (0)
            if (Config.ZeroInitCrossOutput && name.EndsWith("cross_attn.o_proj.weight", StringComparison.Ordinal)) { nn.init.zeros_(p); continue; }
            bool output = name.EndsWith("o_proj.weight", StringComparison.Ordinal) || name.EndsWith("down_proj.weight", StringComparison.Ordinal);
            nn.init.normal_(p, 0, output ? outStd : 0.02);
        }
    }

    /// <summary>Device and dtype of the weights (caches are allocated to match: bf16 weights get bf16 KV caches).</summary>
    public Device WeightDevice => tok_embeddings.weight!.device;
    public ScalarType WeightDtype => tok_embeddings.weight!.dtype;

    /// <summary>The stack pass s runs through (the one shared stack, or stack s).</summary>
    public LayerStack StackFor(int pass) => Config.Weights == WeightSharing.Shared ? stacks[0] : stacks[pass];

    /// <summary>E: token embeddings (+ learned positions) of tokens (B, T) at positions [start, start+T) → (B, T, d).</summary>
    public Tensor Embed(Tensor tokens, int start)
    {
        using var scope = torch.NewDisposeScope();
        var e = tok_embeddings.forward(tokens);
        if (pos_embeddings != null)
            e = e.Plus(pos_embeddings.forward(torch.arange(start, start + tokens.shape[1], dtype: ScalarType.Int64, device: tokens.device)));
        e = embed_dropout is null ? e : embed_dropout.forward(e);
        if (ModelHooks.Current is { } hooks) e = hooks.Apply(HookNames.Embed, e, start);
        return e.MoveToOuterDisposeScope();
    }

    /// <summary>A decode step's logits (B, V) at <paramref name="pos"/> after the hooks at <see cref="HookNames.Logits"/>, which see them as (B, 1, V).</summary>
    public static Tensor HookStepLogits(Tensor logits, int pos) =>
        ModelHooks.Current is { } hooks && hooks.TryApply(HookNames.Logits, logits.unsqueeze(1), pos, out var r) ? r.squeeze(1) : logits;

    /// <summary>The model's final output from every pass's output: the last, or the learned linear combination.</summary>
    public Tensor Combine(IReadOnlyList<Tensor> passOutputs)
    {
        if (stack_mix is null) return passOutputs[^1].alias();
        using var scope = torch.NewDisposeScope();
        return CombineStacked(torch.stack(passOutputs, 0)).MoveToOuterDisposeScope();      // (p, B, T, d) → (B, T, d)
    }

    /// <summary>The same from the passes' outputs stacked, (p, …) → (…): the stacked engine's outputs already are.</summary>
    public Tensor CombineStacked(Tensor stacked)
    {
        if (stack_mix is null) return stacked.select(0, -1);
        var shape = new long[stacked.dim()];
        Array.Fill(shape, 1L); shape[0] = -1;
        return (stacked * stack_mix.view(shape)).sum(dim: 0);                       // sum(0) would bind to sum(ScalarType)
    }

    /// <summary>logits = Unembed(FinalNorm(h)): (B, T, d) → (B, T, V).</summary>
    public Tensor Head(Tensor final)
    {
        using var scope = torch.NewDisposeScope();
        var h = final_norm.forward(final);
        var logits = lm_head != null ? lm_head.forward(h) : torch.matmul(h, tok_embeddings.weight!.t());
        return logits.MoveToOuterDisposeScope();
    }

    /// <summary>Teacher-forced forward (training, prefill, the sequential engine): passes one after another.</summary>
    public override ModelOutput forward(ModelInput input)
    {
        using var scope = torch.NewDisposeScope();
        var outs = Passes(input);
        var logits = Head(Combine(outs));
        if (ModelHooks.Current is { } hooks) logits = hooks.Apply(HookNames.Logits, logits, input.Start);
        logits = logits.MoveToOuterDisposeScope();
        if (!input.KeepStackOutputs) return new ModelOutput(logits, null);
        foreach (var o in outs) o.MoveToOuterDisposeScope();
        return new ModelOutput(logits, outs);
    }

    /// <summary>
    /// The forward up to the head: the combined final output (B, T, d), before the final norm. Scoring unembeds only
    /// the rows it reads (<see cref="Head"/> works row by row); the logits hooks are not applied here.
    /// </summary>
    public Tensor Final(ModelInput input)
    {
        using var scope = torch.NewDisposeScope();
        return Combine(Passes(input)).MoveToOuterDisposeScope();
    }

    /// <summary>Every pass's output (B, T, d), in the caller's dispose scope.</summary>
    List<Tensor> Passes(ModelInput input)
    {
        int start = input.Start;
        if (start + input.Tokens.shape[1] > Config.MaxContext)
            throw new ArgumentException($"positions up to {start + input.Tokens.shape[1]} exceed MaxContext {Config.MaxContext}");
        var e = Embed(input.Tokens, start);
        var outs = new List<Tensor>(Config.Stacks);
        Tensor? below = null;
        var observer = ActivationObservers.Current;
        var hooks = ModelHooks.Current;
        for (int s = 0; s < Config.Stacks; s++)
        {
            observer?.BeginPass(s);
            if (s > 0 && hooks is not null) below = hooks.Apply(HookNames.Memory(s), below!, start);
            var memory = s > 0 ? new StackMemory(below!, input.Cache?.Cross[s]) : null;
            var h = StackFor(s).forward(new StackInput(e, start, rope, input.Cache?.Self[s], memory, Pass: s));
            outs.Add(h);
            below = h;
        }
        return outs;
    }

    /// <summary>A KV cache for a decoding session on this model's device and dtype, with the null slots filled in.</summary>
    public StagCache NewCache(long batch, int? capacity = null)
    {
        var cache = new StagCache(Config, batch, WeightDevice, WeightDtype, capacity);
        for (int s = 1; s < Config.Stacks; s++)
            for (int l = 0; l < Config.LayersPerStack; l++)
                StackFor(s).cross_layers[l].cross_attn.InitializeNullSlot(cache.Cross[s][l]);
        return cache;
    }
}
