using System.Text.Json;
using System.Text.Json.Nodes;
using StagNotebooks.IO;

namespace StagNotebooks.Reporting;

/// <summary>
/// What a <see cref="Figure"/> shows as in a notebook output: one display bundle, no plotly.js inside.
/// <list type="bullet">
/// <item><c>image/png</c> (base64, by headless Chromium through <see cref="FigureWriter.RenderPng"/>) when it can be
/// rendered: the one picture every client draws — GitHub's notebook view, nbviewer, <c>nbconvert</c>, Jupyter classic,
/// JupyterLab and VS Code all show a PNG, and none of them runs scripts from a committed output.</item>
/// <item><c>application/vnd.plotly.v1+json</c>: the interactive figure as data ({data, layout, config}), which
/// JupyterLab (with Plotly's mime renderer, installed with the plotly Python package) and VS Code (Jupyter renderers)
/// draw with their own plotly.js — a few KB per figure instead of 3.6 MB of plotly.js per notebook. A client that
/// cannot draw it shows the PNG; JupyterLab and VS Code let the reader switch between the two.</item>
/// <item><c>text/html</c> only when there is no PNG (no Chromium, or STAG_NO_PNG=1): a short note saying where the
/// interactive figure is (this output's Plotly data, the standalone HTML file), never plotly.js. With a PNG there is
/// no HTML at all, because clients prefer HTML to a PNG and would show the note instead of the picture.</item>
/// <item><c>text/plain</c>: the title and where the standalone HTML file is (<see cref="FigureWriter.SaveChart"/>).</item>
/// </list>
/// The kernel sends a custom mime type's value as a string; nbformat wants an object for every <c>+json</c> type, so
/// both notebook runners parse it when they write the notebook (StagNotebooks.Notebooks.OutputBundle).
/// </summary>
public static class FigureBundle
{
    public const string PngMime = "image/png";
    public const string PlotlyMime = "application/vnd.plotly.v1+json";
    public const string HtmlMime = "text/html";
    public const string TextMime = "text/plain";

    /// <summary>The mime types a figure's bundle carries: with a PNG when Chromium can render one, else the HTML note.</summary>
    public static string[] MimeTypes(bool png) => png ? [PngMime, PlotlyMime, TextMime] : [HtmlMime, PlotlyMime, TextMime];

    /// <summary>The PNG as base64 (what nbformat stores), or "" when it could not be rendered (the runners drop empty values).</summary>
    public static string Png(Figure figure) => FigureWriter.RenderPng(figure) is byte[] png ? Convert.ToBase64String(png) : "";

    /// <summary>The figure as plotly.js reads it: {data, layout, config}, layout with the provenance subtitle.</summary>
    public static string PlotlyJson(Figure figure) => new JsonObject
    {
        ["data"] = JsonNode.Parse(figure.DataJson()),
        ["layout"] = JsonNode.Parse(figure.LayoutJson()),
        ["config"] = new JsonObject { ["displaylogo"] = false, ["responsive"] = true },
    }.ToJsonString(Options);

    public static string PlainText(Figure figure) =>
        figure.SavedHtml is { } html ? $"{figure} — interactive: {Shown(html)}" : figure.ToString();

    /// <summary>The note shown where no PNG exists: names the figure and where its interactive form is. No script.</summary>
    public static string FallbackHtml(Figure figure)
    {
        static string E(string s) => System.Net.WebUtility.HtmlEncode(s);
        var file = figure.SavedHtml is { } html ? $"; standalone: <code>{E(Shown(html))}</code>" : "";
        return $"<div><b>{E(figure.Title)}</b> ({figure.Data.Count} traces): no PNG was rendered (Chromium). The interactive figure is this " +
               $"output's <code>{PlotlyMime}</code> data, drawn by JupyterLab and VS Code{file}.</div>";
    }

    /// <summary>A saved file's path relative to the repository when it lies inside it (the same on every machine), else as saved.</summary>
    static string Shown(string path)
    {
        try
        {
            var relative = Path.GetRelativePath(RepoPaths.Root, path);
            return relative.StartsWith("..", StringComparison.Ordinal) || Path.IsPathRooted(relative) ? path : relative.Replace('\\', '/');
        }
        catch (DirectoryNotFoundException) { return path; }
    }

    static readonly JsonSerializerOptions Options = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
}
