using StagNotebooks.Evaluation;

namespace StagNotebooks.Cli.Commands;

public sealed class EvalBuildTasksCommand : ICommand
{
    public string Name => "eval build-tasks";
    public string Summary => "build held-out tasks (final-word cloze, choose the real continuation) from test-split text";
    public string Usage => """
        stag eval build-tasks --input data/brown/test.jsonl.zst [--out data/tasks] [--seed 1234] [--max 1000] [--sentences 3]

          --input      Pile-format jsonl ({"text": ...} per line), plain or .zst
          --out        folder for heldout_cloze.jsonl (LAMBADA layout) and heldout_continuation.jsonl (HellaSwag layout)
          --max        items kept per task (a seeded draw)
          --sentences  sentences per cloze passage and per continuation context
        """;

    public int Run(CommandLine args)
    {
        var input = args.Get("input") ?? throw new CliException("--input is required (a jsonl or jsonl.zst file of {\"text\": ...} lines)");
        var outDir = args.Get("out", "data/tasks");
        var options = new HeldOutTaskOptions
        {
            Seed = args.GetInt("seed", 1234), MaxExamples = args.GetInt("max", 1000), PassageSentences = args.GetInt("sentences", 3),
        };
        args.RejectUnknown();
        if (options.PassageSentences < 1) throw new CliException($"option --sentences: must be at least 1 (got {options.PassageSentences})");

        var set = HeldOutTasks.Build(new StagNotebooks.Data.PileReader(new[] { input }).Read().Select(d => d.Text), options);
        var paths = set.Write(outDir);
        Console.WriteLine($"{paths[0]}: {set.Cloze.Count} cloze passages");
        Console.WriteLine($"{paths[1]}: {set.Continuation.Count} continuation items");
        return 0;
    }
}
