using System.Globalization;
using System.Reflection;
using System.Text.Json.Nodes;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using StagNotebooks.Training;

namespace StagNotebooks.Notebooks;

/// <summary>
/// One <c>nb.Train(…)</c> call of a notebook as its source reads: the arms it trains and the seeds it asks for (null:
/// the session's), or why it cannot be read before the notebook runs.
/// </summary>
/// <param name="Cell">the cell's index in the notebook (0-based, markdown cells counted)</param>
public sealed record TrainCall(string Notebook, int Cell, string Source, IReadOnlyList<TrainingArm>? Arms, int? Seeds = null, string? Unreadable = null);

/// <summary>
/// The training a notebook will do, read from its code cells before it runs: every <c>nb.Train(arms[, seeds])</c>
/// whose arms are an array of variant names, a variable initialised to one, or a static member of the workbench
/// without arguments (<c>QualityGap.Arms()</c>, evaluated). Why by syntax and not by running: a series' plan and its
/// time must be known before its first notebook starts; a call that cannot be read is reported as such, never guessed
/// (SeriesPlanTests keeps every committed notebook readable).
/// </summary>
public static class NotebookTrainCalls
{
    /// <summary>Every nb.Train call of the notebook at <paramref name="path"/>, in cell order.</summary>
    public static IReadOnlyList<TrainCall> Of(string path) => Of(NotebookDocument.Load(path), Path.GetFileNameWithoutExtension(path));

    /// <summary>Every nb.Train call of a loaded notebook named <paramref name="name"/>, in cell order.</summary>
    public static IReadOnlyList<TrainCall> Of(NotebookDocument doc, string name)
    {
        var cells = doc.Cells.OfType<JsonObject>().Select((c, i) => (Cell: c, Index: i))
            .Where(x => NotebookDocument.IsCode(x.Cell))
            .Select(x => (x.Index, Root: Parse(NotebookDocument.Source(x.Cell)))).ToList();
        // A variable's value is its last initialiser in the notebook (cells run in order; notebooks do not reassign arm lists).
        var variables = cells.SelectMany(c => c.Root.DescendantNodes().OfType<VariableDeclaratorSyntax>())
            .Where(v => v.Initializer != null).GroupBy(v => v.Identifier.ValueText).ToDictionary(g => g.Key, g => g.Last().Initializer!.Value);
        var calls = new List<TrainCall>();
        foreach (var (index, root) in cells)
            foreach (var call in root.DescendantNodes().OfType<InvocationExpressionSyntax>())
                if (IsTrain(call)) calls.Add(Read(name, index, call, variables));
                else if (TrainsOutsideSession(call)) calls.Add(new TrainCall(name, index, call.ToString(), null, Unreadable: "it trains outside nb.Train"));
        return calls;
    }

    /// <summary>The workbench's other ways to train (a notebook that uses one trains what its plan cannot count).</summary>
    static readonly HashSet<string> OtherTraining = new(StringComparer.Ordinal)
    {
        "SyntheticBench.RunAll", "SyntheticBench.Run", "ExperimentRuns.Train", "ExperimentRuns.TrainAll", "RunService.TrainOrReuse", "RunScheduler.TrainAll",
    };

    static bool TrainsOutsideSession(InvocationExpressionSyntax call) =>
        call.Expression is MemberAccessExpressionSyntax m && OtherTraining.Contains($"{m.Expression}.{m.Name.Identifier.ValueText}");

    static SyntaxNode Parse(string source) =>
        // Script kind: notebook cells are script submissions (#load, #r, a trailing expression); "#!" magics are not C#.
        CSharpSyntaxTree.ParseText(string.Join("\n", source.Split('\n').Select(l => l.TrimStart().StartsWith("#!", StringComparison.Ordinal) ? "" : l)),
                                   new CSharpParseOptions(LanguageVersion.Latest, kind: SourceCodeKind.Script)).GetRoot();

    static bool IsTrain(InvocationExpressionSyntax call) =>
        call.Expression is MemberAccessExpressionSyntax { Name.Identifier.ValueText: "Train", Expression: IdentifierNameSyntax { Identifier.ValueText: "nb" } };

    static TrainCall Read(string notebook, int cell, InvocationExpressionSyntax call, IReadOnlyDictionary<string, ExpressionSyntax> variables)
    {
        var args = call.ArgumentList.Arguments;
        var text = call.ToString();
        try
        {
            if (args.Count == 0) throw new UnreadableCall("nb.Train() without arms");
            var seedsArg = args.FirstOrDefault(a => a.NameColon?.Name.Identifier.ValueText == "seeds") ?? (args.Count > 1 && args[1].NameColon is null ? args[1] : null);
            int? seeds = seedsArg is null ? null : seedsArg.Expression is LiteralExpressionSyntax { Token.Value: int n } ? n
                : throw new UnreadableCall($"its seeds ({seedsArg.Expression}) are not a number");
            return new TrainCall(notebook, cell, text, Arms(args[0].Expression, variables, depth: 0), seeds);
        }
        catch (UnreadableCall e) { return new TrainCall(notebook, cell, text, null, Unreadable: e.Message); }
    }

    static IReadOnlyList<TrainingArm> Arms(ExpressionSyntax e, IReadOnlyDictionary<string, ExpressionSyntax> variables, int depth) => e switch
    {
        ImplicitArrayCreationExpressionSyntax a => a.Initializer.Expressions.Select(Name).ToList(),
        ArrayCreationExpressionSyntax { Initializer: { } init } => init.Expressions.Select(Name).ToList(),
        CollectionExpressionSyntax c => c.Elements.Select(x => x is ExpressionElementSyntax el ? Name(el.Expression) : throw new UnreadableCall($"'{x}' is not a variant name")).ToList(),
        IdentifierNameSyntax id when depth < 4 && variables.TryGetValue(id.Identifier.ValueText, out var value) => Arms(value, variables, depth + 1),
        InvocationExpressionSyntax { ArgumentList.Arguments.Count: 0, Expression: MemberAccessExpressionSyntax m } => Evaluate(m),
        MemberAccessExpressionSyntax m => Evaluate(m),
        _ => throw new UnreadableCall($"'{e}' is not an array of variant names, a variable set to one, or a static workbench member without arguments"),
    };

    static TrainingArm Name(ExpressionSyntax e) =>
        e is LiteralExpressionSyntax { Token.Value: string s } ? TrainingArm.Of(s) : throw new UnreadableCall($"'{e}' is not a variant name (a string literal)");

    /// <summary><c>Type.Member</c> or <c>Type.Method()</c> of the workbench library, evaluated: arms or variant names.</summary>
    static IReadOnlyList<TrainingArm> Evaluate(MemberAccessExpressionSyntax m)
    {
        var typeName = m.Expression.ToString();
        var member = m.Name.Identifier.ValueText;
        var types = typeof(TrainingArm).Assembly.GetExportedTypes().Where(t => t.Name == typeName).ToList();
        if (types.Count != 1) throw new UnreadableCall($"'{typeName}' is {(types.Count == 0 ? "not a type" : "more than one type")} of the workbench library");
        var type = types[0];
        const BindingFlags Static = BindingFlags.Public | BindingFlags.Static;
        object? value = type.GetMethod(member, Static, Type.EmptyTypes)?.Invoke(null, null)
                        ?? type.GetProperty(member, Static)?.GetValue(null)
                        ?? type.GetField(member, Static)?.GetValue(null)
                        ?? throw new UnreadableCall($"{typeName}.{member} is not a static member without arguments");
        return value switch
        {
            IEnumerable<TrainingArm> arms => arms.ToList(),
            IEnumerable<string> names => names.Select(TrainingArm.Of).ToList(),
            _ => throw new UnreadableCall($"{typeName}.{member} gives {value.GetType().Name}, not arms or variant names"),
        };
    }

    sealed class UnreadableCall(string message) : Exception(message);

    /// <summary>"03-training cell 12: nb.Train(QualityGap.Arms()) → 6 arms" or "… cannot be read before it runs: why".</summary>
    public static string Describe(TrainCall c) => c.Arms is null
        ? $"{c.Notebook} cell {c.Cell}: {c.Source} cannot be read before it runs ({c.Unreadable})"
        : string.Create(CultureInfo.InvariantCulture, $"{c.Notebook} cell {c.Cell}: {c.Source} → {c.Arms.Count} arm(s){(c.Seeds is int s ? $", {s} seed(s)" : "")}");
}
