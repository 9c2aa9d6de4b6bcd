using System.Globalization;
using System.Reflection;

namespace StagNotebooks.IO;

/// <summary>CSV of a list of records: one column per public property, invariant culture, quoted when needed.</summary>
public static class Csv
{
    public static string From<T>(IEnumerable<T> rows)
    {
        var props = typeof(T).GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.GetIndexParameters().Length == 0).ToArray();
        var sb = new System.Text.StringBuilder();
        sb.AppendLine(string.Join(",", props.Select(p => Quote(p.Name))));
        foreach (var r in rows)
            sb.AppendLine(string.Join(",", props.Select(p => Quote(Format(p.GetValue(r))))));
        return sb.ToString();
    }

    static string Format(object? v) => v switch
    {
        null => "",
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        float f => f.ToString("R", CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => v.ToString() ?? "",
    };

    static string Quote(string s) => s.IndexOfAny(new[] { ',', '"', '\n' }) >= 0 ? "\"" + s.Replace("\"", "\"\"") + "\"" : s;
}
