using System.Globalization;

namespace StagNotebooks.IO;

/// <summary>
/// Numbers as every table shows them (notebook outputs, Markdown files, verdicts): 3 significant digits below 1,000,
/// whole numbers with thousands separators at and above it, never an exponent (7.2205E+05 reads as 722,050), and a
/// missing spread said in words. CSV files keep full precision; this is for reading only.
/// </summary>
public static class NumberText
{
    /// <summary><paramref name="x"/> to <paramref name="digits"/> significant digits, no exponent ("3.90", "0.0123", "722000").</summary>
    public static string Significant(double x, int digits = 3)
    {
        if (x == 0 || !double.IsFinite(x)) return x.ToString(CultureInfo.InvariantCulture);
        int decimals = digits - 1 - (int)Math.Floor(Math.Log10(Math.Abs(x)));
        double rounded = decimals >= 0 ? Math.Round(x, decimals, MidpointRounding.AwayFromZero)
                                       : Math.Round(x / Math.Pow(10, -decimals), MidpointRounding.AwayFromZero) * Math.Pow(10, -decimals);
        return rounded.ToString("0.##########", CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// A table cell: a whole number or any |x| ≥ 1,000 as a whole number with separators ("2,797", "722,050"), others
    /// to 3 significant digits with their trailing zeros ("3.90": the digits shown are the digits meant). NaN is
    /// "no sd" in a spread column (one seed has none) and "n/a" elsewhere.
    /// </summary>
    public static string Cell(double x, string column = "")
    {
        if (double.IsNaN(x)) return column.Contains("sd", StringComparison.OrdinalIgnoreCase) ? "no sd" : "n/a";
        if (double.IsInfinity(x)) return x > 0 ? "∞" : "−∞";
        if (Math.Abs(x) >= 1000 || (x == Math.Round(x) && Math.Abs(x) < 1e15)) return Math.Round(x).ToString("#,0", CultureInfo.InvariantCulture);
        int decimals = Math.Clamp(2 - (int)Math.Floor(Math.Log10(Math.Abs(x))), 0, 12);
        return Math.Round(x, decimals, MidpointRounding.AwayFromZero).ToString("F" + decimals, CultureInfo.InvariantCulture);
    }

    /// <summary>A table cell of any type: numbers by <see cref="Cell(double, string)"/>, others as text.</summary>
    public static string Cell(object? value, string column = "") => value switch
    {
        null => "",
        double d => Cell(d, column),
        float f => Cell((double)f, column),
        _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "",
    };
}
