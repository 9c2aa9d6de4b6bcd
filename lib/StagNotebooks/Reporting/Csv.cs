using System.Globalization;
using System.Reflection;
using System.Text;

namespace StagNotebooks.Reporting;

/// <summary>CSV: written from a list of records (one column per public property, invariant culture, quoted when needed) and read back as rows of fields.</summary>
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

    /// <summary>RFC 4180 CSV (what <c>DataFrame.SaveCsv</c> writes), read back: the reader beside the writer: quoted fields may hold commas, doubled quotes and newlines.</summary>
    /// <exception cref="InvalidDataException">an unterminated or misplaced quote (the message names the file)</exception>
    public static IReadOnlyList<string[]> Read(string path)
    {
        var text = File.ReadAllText(path, Encoding.UTF8);
        var rows = new List<string[]>();
        var row = new List<string>();
        var field = new StringBuilder();
        bool quoted = false, wasQuoted = false;
        int line = 1;
        for (int i = 0; i < text.Length; i++)
        {
            char ch = text[i];
            if (quoted)
            {
                if (ch == '"')
                {
                    if (i + 1 < text.Length && text[i + 1] == '"') { field.Append('"'); i++; }
                    else quoted = false;
                }
                else { if (ch == '\n') line++; field.Append(ch); }
                continue;
            }
            switch (ch)
            {
                case '"':
                    if (field.Length > 0 || wasQuoted) throw new InvalidDataException($"{path}: line {line}: a quote inside an unquoted field");
                    quoted = wasQuoted = true;
                    break;
                case ',':
                    row.Add(field.ToString()); field.Clear(); wasQuoted = false;
                    break;
                case '\r' when i + 1 < text.Length && text[i + 1] == '\n':
                    break;
                case '\n':
                    row.Add(field.ToString()); field.Clear(); wasQuoted = false;
                    rows.Add(row.ToArray()); row.Clear(); line++;
                    break;
                default:
                    if (wasQuoted) throw new InvalidDataException($"{path}: line {line}: text after a closing quote");
                    field.Append(ch);
                    break;
            }
        }
        if (quoted) throw new InvalidDataException($"{path}: a quoted field is not closed (from line {line} to the end)");
        if (field.Length > 0 || row.Count > 0 || wasQuoted) { row.Add(field.ToString()); rows.Add(row.ToArray()); }
        return rows;
    }
}
