namespace StagNotebooks.Cli;

/// <summary>One `stag` command. Implementations are discovered by reflection, so each lives in its own file under Commands/.</summary>
public interface ICommand
{
    /// <summary>Words that select the command, e.g. "doctor" or "data prepare".</summary>
    string Name { get; }
    string Summary { get; }
    /// <summary>Usage text shown by `stag NAME --help`.</summary>
    string Usage { get; }
    /// <summary>Options that take no value.</summary>
    IEnumerable<string> Switches => Array.Empty<string>();
    /// <returns>process exit code</returns>
    int Run(CommandLine args);
}
