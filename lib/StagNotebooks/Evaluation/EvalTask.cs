namespace StagNotebooks.Evaluation;

/// <summary>One scored alternative: the log-likelihood of <see cref="Continuation"/> given <see cref="Context"/>.</summary>
public sealed record TaskChoice(string Context, string Continuation);

/// <summary>
/// One task item. Multiple choice: several choices (usually one context, several continuations; WinoGrande:
/// several contexts, one continuation), <see cref="Gold"/> the right one. Cloze: one choice, Gold = 0.
/// </summary>
public sealed record TaskExample(IReadOnlyList<TaskChoice> Choices, int Gold);

public enum TaskKind
{
    /// <summary>Accuracy = the gold choice has the highest log-likelihood (acc) or per-character log-likelihood (acc_norm).</summary>
    MultipleChoice,
    /// <summary>Accuracy = every continuation token is the model's greedy prediction (LAMBADA).</summary>
    Cloze,
}

/// <summary>The layouts of the standard task files (lm-evaluation-harness conventions).</summary>
public enum TaskFormat { HellaSwag, Arc, Piqa, WinoGrande, Lambada }

public sealed record EvalTask(string Name, TaskFormat Format, IReadOnlyList<TaskExample> Examples)
{
    public TaskKind Kind => Format == TaskFormat.Lambada ? TaskKind.Cloze : TaskKind.MultipleChoice;
}
