using System.Reflection;
using StagNotebooks.Cli;
using StagNotebooks.Runtime;

var commands = typeof(ICommand).Assembly.GetTypes()
    .Where(t => typeof(ICommand).IsAssignableFrom(t) && !t.IsAbstract && !t.IsInterface)
    .Select(t => (ICommand)Activator.CreateInstance(t)!)
    .OrderBy(c => c.Name, StringComparer.Ordinal)
    .ToList();

PosixSignals.IgnoreFileSizeLimitSignal();
return Dispatch(args);

int Dispatch(string[] argv)
{
    if (argv.Length == 0 || argv[0] is "--help" or "-h" or "help")
    {
        PrintHelp();
        return argv.Length == 0 ? 2 : 0;
    }
    if (argv[0] == "--version")
    {
        Console.WriteLine(typeof(ICommand).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown");
        return 0;
    }
    // Longest match of command words: "data prepare" before "data".
    var cmd = commands
        .Where(c => { var w = c.Name.Split(' '); return w.Length <= argv.Length && w.SequenceEqual(argv.Take(w.Length)); })
        .OrderByDescending(c => c.Name.Split(' ').Length)
        .FirstOrDefault();
    if (cmd == null)
    {
        var group = commands.Where(c => c.Name.StartsWith(argv[0] + " ", StringComparison.Ordinal)).ToList();
        if (group.Count > 0)
        {
            Console.Error.WriteLine($"stag {argv[0]}: choose one of: {string.Join(", ", group.Select(g => g.Name))}");
            return 2;
        }
        Console.Error.WriteLine($"stag: unknown command '{argv[0]}'. Run `stag --help` for the list.");
        return 2;
    }
    var rest = argv.Skip(cmd.Name.Split(' ').Length).ToArray();
    if (rest.Contains("--help") || rest.Contains("-h"))
    {
        Console.WriteLine($"stag {cmd.Name} — {cmd.Summary}\n\n{cmd.Usage}");
        return 0;
    }
    try
    {
        return cmd.Run(CommandLine.Parse(rest, cmd.Switches));
    }
    catch (CliException e)
    {
        Console.Error.WriteLine($"stag {cmd.Name}: {e.Message}");
        return 2;
    }
    catch (TorchUnavailableException e)
    {
        Console.Error.WriteLine(e.Message);
        return 3;
    }
    catch (Exception e) when (e is StagNotebooks.Model.ConfigException or StagNotebooks.Model.CheckpointException
                                 or InvalidDataException or FileNotFoundException or DirectoryNotFoundException
                                 or ArgumentException or StagNotebooks.Training.TrainingDivergedException
                                 or StagNotebooks.Training.CheckpointWriteException)
    {
        // Bad input: say what and where, without a stack trace.
        Console.Error.WriteLine($"stag {cmd.Name}: {e.Message}");
        return 2;
    }
}

void PrintHelp()
{
    Console.WriteLine("stag — the StagNotebooks command: StagFormer (staggered Transformer) research workbench\n");
    Console.WriteLine("usage: stag <command> [options]      stag <command> --help for its options\n");
    int w = commands.Max(c => c.Name.Length);
    foreach (var c in commands) Console.WriteLine($"  {c.Name.PadRight(w)}  {c.Summary}");
    Console.WriteLine("\nCommon options: --device auto|cpu|cuda[:N]   --threads N   --json");
}
