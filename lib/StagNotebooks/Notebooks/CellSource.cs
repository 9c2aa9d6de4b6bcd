using System.Text.RegularExpressions;

namespace StagNotebooks.Notebooks;

/// <summary>
/// A code cell's text prepared for Roslyn scripting: the kernel's magics are handled and replaced by blank lines,
/// so line numbers in errors still match the cell. <c>#r "nuget: …"</c> must name a package the executor ships
/// (it is already loaded); <c>#r "…StagNotebooks.dll"</c> is the loaded library; other <c>#r "path"</c> and
/// <c>#load</c> are left to Roslyn; <c>#!time</c> times the cell.
/// </summary>
public sealed record CellSource(string Code, bool Timed)
{
    /// <summary>Packages whose assemblies the executor carries: a notebook may ask for them, any other is an error.</summary>
    public static readonly IReadOnlyList<string> ShippedPackages = new[]
    {
        "TorchSharp", "TorchSharp-cpu", "TorchSharp-cuda-windows", "TorchSharp-cuda-linux", "libtorch-cpu-linux-x64", "libtorch-cpu-win-x64", "libtorch-cpu-osx-arm64",
        "Microsoft.ML.Tokenizers", "Microsoft.ML.Tokenizers.Data.Cl100kBase", "Microsoft.ML.Tokenizers.Data.O200kBase",
        "Microsoft.Data.Analysis", "Plotly.NET", "Plotly.NET.Interactive", "StagNotebooks",
    };

    static readonly Regex Nuget = new(@"^\s*#r\s+""nuget:\s*([^,""\s]+)\s*(?:,\s*([^""]*))?""\s*$", RegexOptions.Compiled);
    static readonly Regex Reference = new(@"^\s*#r\s+""([^""]+)""\s*$", RegexOptions.Compiled);
    static readonly Regex Magic = new(@"^\s*#!(\w+)", RegexOptions.Compiled);

    /// <param name="where">"notebook X, cell N" — the prefix of every error</param>
    public static CellSource Prepare(string source, string where)
    {
        var lines = source.Replace("\r\n", "\n").Split('\n');
        bool timed = false;
        for (int i = 0; i < lines.Length; i++)
        {
            var line = lines[i];
            if (Nuget.Match(line) is { Success: true } n)
            {
                var package = n.Groups[1].Value;
                if (!ShippedPackages.Contains(package, StringComparer.OrdinalIgnoreCase))
                    throw new NotebookException($"{where}: package '{package}' is not available to the headless executor; it ships: {string.Join(", ", ShippedPackages)}");
                lines[i] = "";
            }
            else if (Reference.Match(line) is { Success: true } r && Path.GetFileName(r.Groups[1].Value).Equals("StagNotebooks.dll", StringComparison.OrdinalIgnoreCase))
                lines[i] = "";   // the library this executor runs in: referencing a second copy would split its types
            else if (Magic.Match(line) is { Success: true } m)
            {
                if (m.Groups[1].Value == "time") { timed = true; lines[i] = ""; }
                else throw new NotebookException($"{where} (line {i + 1}): magic command #!{m.Groups[1].Value} is not supported by the headless executor (it runs C# cells; #!time is supported)");
            }
        }
        return new CellSource(TrackLines(string.Join("\n", lines)), timed);
    }

    /// <summary>
    /// Puts <c>__line = k;</c> before each top-level statement, on its own line k, so a run-time error can name
    /// the statement that failed: Roslyn cannot emit debug information for scripts on this platform, so stack
    /// traces carry no line numbers. Line numbers of compile errors are unchanged.
    /// </summary>
    static string TrackLines(string code)
    {
        var tree = Microsoft.CodeAnalysis.CSharp.CSharpSyntaxTree.ParseText(code,
            new Microsoft.CodeAnalysis.CSharp.CSharpParseOptions(kind: Microsoft.CodeAnalysis.SourceCodeKind.Script));
        var starts = tree.GetRoot().DescendantNodes(n => n is Microsoft.CodeAnalysis.CSharp.Syntax.CompilationUnitSyntax)
            .OfType<Microsoft.CodeAnalysis.CSharp.Syntax.GlobalStatementSyntax>()
            .Select(g => g.Statement).Where(st => st is not Microsoft.CodeAnalysis.CSharp.Syntax.LocalFunctionStatementSyntax)
            .Select(st => st.SpanStart).OrderByDescending(x => x).ToList();
        var sb = new System.Text.StringBuilder(code);
        foreach (var at in starts)
            sb.Insert(at, $"__line = {tree.GetLineSpan(new Microsoft.CodeAnalysis.Text.TextSpan(at, 0)).StartLinePosition.Line + 1}; ");
        return sb.ToString();
    }
}

/// <summary>A notebook that cannot run; the message names the notebook, the cell and the line.</summary>
public sealed class NotebookException(string message, Exception? inner = null) : Exception(message, inner);
