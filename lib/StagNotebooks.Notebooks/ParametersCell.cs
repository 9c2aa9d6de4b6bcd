using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis.CSharp;

namespace StagNotebooks.Notebooks;

/// <summary>
/// Papermill's parameters for C#: the cell tagged "parameters" declares defaults (<c>var Preset = "cpu-small";</c>);
/// overrides go into a new cell right after it, tagged "injected-parameters", each value typed like the literal it
/// replaces.
/// </summary>
public static class ParametersCell
{
    static readonly Regex Declaration = new(@"^\s*(?:var|int|long|double|float|bool|string)\s+(\w+)\s*=\s*(.+?)\s*;\s*(?://.*)?$", RegexOptions.Compiled);

    /// <summary>The declared names and their default literals.</summary>
    public static IReadOnlyDictionary<string, string> Declared(string source) =>
        source.Split('\n').Select(l => Declaration.Match(l)).Where(m => m.Success)
            .ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Value.Trim());

    /// <summary>Inserts the overrides after the parameters cell; returns how many cells were inserted (0 or 1).</summary>
    public static int Inject(NotebookDocument doc, IReadOnlyDictionary<string, string> overrides, string notebook)
    {
        if (overrides.Count == 0) return 0;
        var cells = doc.Cells;
        int index = -1;
        for (int i = 0; i < cells.Count; i++)
            if (NotebookDocument.Tags((JsonObject)cells[i]!).Contains("parameters")) { index = i; break; }
        if (index < 0) throw new NotebookException($"notebook {notebook}: -p given but no cell is tagged \"parameters\"");
        var declared = Declared(NotebookDocument.Source((JsonObject)cells[index]!));
        var unknown = overrides.Keys.Where(k => !declared.ContainsKey(k)).ToList();
        if (unknown.Count > 0)
            throw new NotebookException($"notebook {notebook}: unknown parameter {string.Join(", ", unknown.Select(u => $"'{u}'"))}; the parameters cell declares: {string.Join(", ", declared.Keys)}");
        var code = string.Join("\n", overrides.Select(kv => $"{kv.Key} = {Literal(kv.Key, declared[kv.Key], kv.Value, notebook)};"));
        var injected = NotebookDocument.Create(NotebookDocument.Cell.Code("// Injected parameters\n" + code, "injected-parameters")).Cells[0]!.DeepClone();
        ((JsonObject)injected)["id"] = "injected-parameters";
        cells.Insert(index + 1, injected);
        return 1;
    }

    static string Literal(string name, string original, string value, string notebook)
    {
        string Bad(string type) => throw new NotebookException($"notebook {notebook}: parameter {name} is {type} (default {original}); '{value}' is not one");
        if (original.StartsWith('"') || original.StartsWith("@\"", StringComparison.Ordinal)) return SymbolDisplay.FormatLiteral(value, quote: true);
        if (original is "true" or "false") return bool.TryParse(value, out var b) ? (b ? "true" : "false") : Bad("a bool");
        if (long.TryParse(original, NumberStyles.Integer, CultureInfo.InvariantCulture, out _))
            return long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var l) ? l.ToString(CultureInfo.InvariantCulture) : Bad("an integer");
        return double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d.ToString("R", CultureInfo.InvariantCulture) : Bad("a number");
    }
}
