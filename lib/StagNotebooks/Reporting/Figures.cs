using Microsoft.Data.Analysis;
using StagNotebooks.IO;

namespace StagNotebooks.Reporting;

/// <summary>Where a notebook's charts and tables go, and saving them there with their provenance.</summary>
public static class Figures
{
    /// <summary>
    /// The figure folder of a notebook at a preset and seed count: figures/&lt;notebook&gt;/&lt;preset&gt;[-Nseeds]/ under
    /// <paramref name="root"/> (default: the repository's figures/). Pass it to <see cref="Save(Figure, FigureFolder, string)"/>
    /// so runs at other presets do not overwrite the committed default's figures, and every figure names its preset,
    /// seeds and commit.
    /// </summary>
    public static FigureFolder Folder(string notebook, string preset, int seeds, string? root = null) =>
        FigureFolder.For(string.IsNullOrEmpty(root) ? RepoPaths.Figures : root, notebook, preset, seeds);

    /// <summary>Saves a chart (stamped with its provenance) into the notebook's preset folder and returns the stamped chart.</summary>
    public static Figure Save(Figure chart, FigureFolder figures, string name)
    {
        FigureWriter.SaveChart(chart, figures.Path, name, figures.Provenance);   // sets the chart's provenance subtitle
        return chart;
    }

    /// <summary>Saves a table (Markdown footer and sidecar naming its provenance) into the notebook's preset folder.</summary>
    public static DataFrame Save(DataFrame table, FigureFolder figures, string name) { FigureWriter.SaveTable(table, figures.Path, name, figures.Provenance); return table; }

    /// <summary>Saves a chart under a plain folder (no preset subfolder, no provenance): prefer the <see cref="FigureFolder"/> overload.</summary>
    public static Figure Save(Figure chart, string figures, string name) { FigureWriter.SaveChart(chart, figures, name); return chart; }

    public static DataFrame Save(DataFrame table, string figures, string name) { FigureWriter.SaveTable(table, figures, name); return table; }
}
