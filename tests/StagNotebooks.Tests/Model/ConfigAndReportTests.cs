using StagNotebooks.Model;
using TorchSharp;

namespace StagNotebooks.Tests.Model;

public class ConfigAndReportTests
{
    [Fact]
    public void Config_round_trips_through_json()
    {
        var c = Variants.Tiny with { Stacks = 3, Weights = WeightSharing.Shared, CrossWindow = 4, Combination = StackCombination.LearnedLinear, EmptyCross = EmptyCrossAttention.Zero };
        var json = c.ToJson();
        Assert.Contains("\"Weights\": \"Shared\"", json);
        Assert.Equal(c, StagFormerConfig.FromJson(json));
    }

    [Theory]
    [InlineData("{\"Heads\": 3, \"DModel\": 16}", "config field Heads: 3 does not divide DModel 16")]
    [InlineData("{\"Stacks\": 0}", "config field Stacks: must be at least 1 (got 0)")]
    [InlineData("{\"CrossWindow\": 0}", "config field CrossWindow: must be at least 1, or null for the whole past (got 0)")]
    [InlineData("{\"Stacks\": 1, \"Weights\": \"Shared\"}", "config field Weights: a baseline (Stacks = 1) has nothing to share; use Separate")]
    [InlineData("{\"CrossLag\": 2}", "config field CrossLag: must be 1 (staggered) or 0 (non-staggered control) (got 2)")]
    public void Invalid_config_names_the_field(string json, string message)
    {
        var e = Assert.Throws<ConfigException>(() => StagFormerConfig.FromJson(json));
        Assert.Equal(message, e.Message);
    }

    [Fact]
    public void Unknown_config_field_is_an_error_naming_it_and_the_file()
    {
        var e = Assert.Throws<ConfigException>(() => StagFormerConfig.FromJson("{\"Layers\": 4}", "run/config.json"));
        Assert.StartsWith("config field $.Layers: run/config.json: The JSON property 'Layers'", e.Message);
    }

    [Theory]
    [InlineData("paper-18L", 1.55e9, 1.65e9)]
    [InlineData("paper-36L", 2.7e9, 2.85e9)]
    [InlineData("paper-2x18L-separate", 2.85e9, 2.98e9)]
    public void Paper_shapes_have_the_papers_parameter_counts(string shape, double low, double high)
    {
        long total = ParameterReport.Total(ParameterReport.Expected(ModelShapes.Get(shape)));
        Assert.InRange(total, low, high);
    }

    public static TheoryData<string> Names => Variants.Names();

    [Theory, MemberData(nameof(Names))]
    public void Parameter_counts_equal_the_closed_form(string variant)
    {
        var c = Variants.Get(variant);
        using var m = new StagFormerModel(c);
        Assert.Equal(ParameterReport.Expected(c), ParameterReport.Measure(m));
    }

    [Fact]
    public void Shared_weights_are_one_set_of_tensors()
    {
        var c = Variants.Tiny with { Stacks = 3, Weights = WeightSharing.Shared };
        using var m = new StagFormerModel(c);
        Assert.Single(m.stacks);
        Assert.Same(m.StackFor(0), m.StackFor(2));
        var separate = new StagFormerModel(c with { Weights = WeightSharing.Separate });
        long sharedTotal = m.parameters().Sum(p => p.NumberOfElements), separateTotal = separate.parameters().Sum(p => p.NumberOfElements);
        var perStack = ParameterReport.Expected(c).Where(g => g.Stack == "shared" && g.Component != "cross-attention").Sum(g => g.Count);
        var cross = ParameterReport.Expected(c).Single(g => g.Component == "cross-attention").Count;
        Assert.Equal(separateTotal - sharedTotal, 2 * perStack + cross);   // two more stacks, one more set of cross layers
    }

    [Theory]
    [InlineData(null)]
    [InlineData(3)]
    public void Memory_report_matches_what_the_cache_allocates(int? window)
    {
        var c = Variants.Tiny with { Stacks = 3, CrossWindow = window };
        using var cache = new StagCache(c, batch: 2, torch.CPU, capacity: 20);
        var r = MemoryReport.For(c, batch: 2, context: 20);
        Assert.Equal(cache.SelfBytes, r.SelfKvBytes);
        Assert.Equal(cache.CrossBytes, r.CrossKvBytes);
        long perPosition = 2L * 2 * c.DModel * 4;                          // K and V, batch 2, fp32
        Assert.Equal(2L * c.LayersPerStack * perPosition * ((window ?? 20) + 1), r.CrossKvBytes);   // 2 upper passes, + the null slot
    }
}
