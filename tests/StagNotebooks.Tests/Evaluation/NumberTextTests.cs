using Microsoft.Data.Analysis;
using StagNotebooks.IO;
using StagNotebooks.Reporting;
using StagNotebooks.Training;

namespace StagNotebooks.Tests.Evaluation;

/// <summary>One way to print a number in every table, and one val loss per model.</summary>
public class NumberTextTests
{
    [Theory]
    [InlineData(3.90312, "", "3.90")]
    [InlineData(0.0123456, "", "0.0123")]
    [InlineData(722050.0, "", "722,050")]
    [InlineData(2796.6, "tokens/s", "2,797")]
    [InlineData(588.67, "tokens/s", "589")]
    [InlineData(3.0, "seeds", "3")]
    [InlineData(-0.25, "", "-0.250")]
    [InlineData(double.NaN, "± sd", "no sd")]
    [InlineData(double.NaN, "val loss", "n/a")]
    public void A_table_cell_has_three_significant_digits_separators_and_no_exponent(double x, string column, string expected) =>
        Assert.Equal(expected, NumberText.Cell(x, column));

    [Fact]
    public void Markdown_files_and_notebook_tables_print_the_same_text()
    {
        var df = new DataFrame(new StringDataFrameColumn("model", new[] { "a" }), new DoubleDataFrameColumn("tokens", new[] { 722050.0 }),
                               new DoubleDataFrameColumn("loss", new[] { 3.90312 }), new DoubleDataFrameColumn("± sd", new[] { double.NaN }));
        Assert.Contains("| a | 722,050 | 3.90 | no sd |", FigureWriter.Markdown(df));
        Assert.Contains("<td style=\"text-align:right\">722,050</td>", NotebookFormatting.TableHtml(df));
        Assert.Contains("no sd", NotebookFormatting.TableText(df));
    }

    static TrainResult Run(double? best) => new(null!, 10, 4.0, best, Array.Empty<StepMetrics>(), false, true);

    [Fact]
    public void A_models_val_loss_is_its_seeds_best_validation_loss()
    {
        var three = new Trained("m", new[] { Run(3.9), Run(3.92), Run(3.94) });
        Assert.Equal(new[] { 3.9, 3.92, 3.94 }, three.ValLosses);
        Assert.Equal(3.92, three.ValLoss, 12);
        Assert.Equal(0.02, three.ValLossSd, 12);
        Assert.Equal("3.92 ± 0.02 (3 seeds)", three.ValLossText);
        var one = new Trained("m", new[] { Run(3.9) });
        Assert.True(double.IsNaN(one.ValLossSd));
        Assert.Equal("3.90 (1 seed, no sd)", one.ValLossText);
        Assert.True(double.IsNaN(new Trained("m", new[] { Run(null) }).ValLoss));
    }
}
