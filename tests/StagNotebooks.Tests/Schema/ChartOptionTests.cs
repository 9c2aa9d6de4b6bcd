using System.Text.Json.Nodes;
using StagNotebooks.Reporting;

namespace StagNotebooks.Tests.Schema;

/// <summary>The chart options that keep a picture honest: bands for seeds, a second axis for a second unit, bars not from 0 when asked, fixed colour ranges, yes/no masks.</summary>
public class ChartOptionTests
{
    static JsonObject Trace(Figure f, int i) => (JsonObject)f.Data[i]!;
    static double[] Numbers(JsonNode? n) => n!.AsArray().Select(x => double.Parse(x!.ToJsonString(), System.Globalization.CultureInfo.InvariantCulture)).ToArray();

    [Fact]
    public void A_line_with_a_spread_gets_a_band_under_it_and_markers_get_error_bars()
    {
        var f = Charts.Lines("t", "x", "y", new[]
        {
            new Series("mean", new double[] { 1, 2 }, new double[] { 3, 2 }, new double[] { 0.5, 0.25 }),
            new Series("points", new double[] { 1, 2 }, new double[] { 4, 5 }, new double[] { 0.1, 0.2 }, Mode: "markers"),
        });
        Assert.Equal(4, f.Data.Count);
        Assert.Equal(new[] { 3.5, 2.25 }, Numbers(Trace(f, 0)["y"]));
        Assert.Equal(new[] { 2.5, 1.75 }, Numbers(Trace(f, 1)["y"]));
        Assert.Equal("tonexty", (string?)Trace(f, 1)["fill"]);
        Assert.False((bool)Trace(f, 0)["showlegend"]!);
        Assert.Null(Trace(f, 2)["error_y"]);
        Assert.Equal(new[] { 0.1, 0.2 }, Numbers(Trace(f, 3)["error_y"]!["array"]));
    }

    [Fact]
    public void A_second_unit_goes_on_a_right_hand_axis_and_a_log_axis_ticks_at_the_data()
    {
        var f = Charts.Lines("t", "context", "ratio", new[]
        {
            new Series("ratio", new double[] { 128, 1024, 4096 }, new double[] { 1, 2, 3 }),
            new Series("nats", new double[] { 128, 1024, 4096 }, new double[] { 0.1, 0.2, 0.3 }, SecondAxis: true, Dash: "dash"),
        }, logX: true, y2Title: "loss gap (nats)");
        Assert.Equal("y", (string?)Trace(f, 0)["yaxis"]);
        Assert.Equal("y2", (string?)Trace(f, 1)["yaxis"]);
        Assert.Equal("dash", (string?)Trace(f, 1)["line"]!["dash"]);
        Assert.Equal("loss gap (nats)", (string?)f.Layout["yaxis2"]!["title"]!["text"]);
        Assert.Equal(new[] { 128.0, 1024, 4096 }, Numbers(f.Layout["xaxis"]!["tickvals"]));
        Assert.Equal(new[] { "128", "1,024", "4,096" }, f.Layout["xaxis"]!["ticktext"]!.AsArray().Select(x => (string?)x));
        var rates = Charts.Lines("t", "peak learning rate", "loss", new[] { new Series("a", new[] { 0.00075, 0.0015, 0.003 }, new double[] { 1, 2, 3 }) }, logX: true);
        Assert.Equal(new[] { "0.00075", "0.0015", "0.003" }, rates.Layout["xaxis"]!["ticktext"]!.AsArray().Select(x => (string?)x));
    }

    [Fact]
    public void Bars_not_from_zero_span_the_values_and_their_error_bars()
    {
        var f = Charts.Bars("t", "model", "loss", new[] { "a", "b" }, new[] { ("loss", (IReadOnlyList<double>)new[] { 4.0, 4.1 }, (IReadOnlyList<double>?)new[] { 0.02, 0.01 }) }, fromZero: false);
        var range = Numbers(f.Layout["yaxis"]!["range"]);
        Assert.True(range[0] is > 3.9 and < 3.98, $"{range[0]}");
        Assert.True(range[1] is > 4.11 and < 4.2, $"{range[1]}");
        Assert.Null(Charts.Bars("t", "m", "y", new[] { "a" }, new[] { ("v", (IReadOnlyList<double>)new[] { 1.0 }, (IReadOnlyList<double>?)null) }).Layout["yaxis"]!["range"]);
    }

    [Fact]
    public void A_heatmap_can_fix_its_colour_range_and_print_its_values_and_a_mask_has_two_colours()
    {
        var z = new[] { new[] { 0.211, 0.216 }, new[] { 0.213, 0.214 } };
        var h = Charts.Heatmap("cka", "x", "y", z, new[] { "a", "b" }, new[] { "c", "d" }, zMin: 0, zMax: 1, valueFormat: ".3f");
        Assert.Equal(0, (double)Trace(h, 0)["zmin"]!);
        Assert.Equal(1, (double)Trace(h, 0)["zmax"]!);
        Assert.Equal("%{z:.3f}", (string?)Trace(h, 0)["texttemplate"]);
        Assert.Equal(new[] { "a", "b" }, h.Layout["xaxis"]!["ticktext"]!.AsArray().Select(x => (string?)x));
        var repeated = Charts.Heatmap("t", "x", "y", z, new[] { "the", "the" }, new[] { "c", "d" });   // one token twice: two columns, not one
        Assert.Equal(new[] { 0.0, 1 }, Numbers(Trace(repeated, 0)["x"]));
        Assert.Equal(new[] { "the", "the" }, repeated.Layout["xaxis"]!["ticktext"]!.AsArray().Select(x => (string?)x));
        var m = Charts.Mask("mask", "key", "query", MaskPicture.Visible(4, 1, null), new[] { "0", "1", "2", "3" }, new[] { "0", "1", "2", "3" });
        Assert.Equal(new[] { "hidden", "visible" }, Trace(m, 0)["colorbar"]!["ticktext"]!.AsArray().Select(x => (string?)x));
        Assert.Equal(new[] { 1.0, 1, 0, 0 }, Numbers(Trace(m, 0)["z"]![2]));   // lag 1: query 2 sees keys k ≤ 1
    }

    [Fact]
    public void A_figure_without_a_preset_names_its_commit_and_source_only()
    {
        Assert.Equal("commit abc · 02-architecture", new Provenance("", 1, "abc", "02-architecture").Line);
        Assert.Equal("preset smoke · 3 seeds · commit abc", new Provenance("smoke", 3, "abc").Line);
    }
}
