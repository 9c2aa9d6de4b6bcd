using StagNotebooks.Notebooks;

namespace StagNotebooks.Cli.Commands;

public sealed class KernelInstallCommand : ICommand
{
    public string Name => "kernel install";
    public string Summary => "register the .net-csharp Jupyter kernelspec with --http-local-only (its HTTP server on loopback only)";
    public string Usage => """
        stag kernel install [--kernels-dir <dir>] [--replace]

          Writes <kernels-dir>/.net-csharp/kernel.json, the spec Jupyter and VS Code start the .NET Interactive kernel
          from, with --http-local-only in its argv: the kernel's HTTP server then listens on 127.0.0.1 only, not on
          every network interface (`dotnet interactive jupyter install` leaves the flag out). A spec already there keeps
          its argv and fields and gains the flag; one that has it is left alone. Run it after
          `dotnet interactive jupyter install`, or instead of it.
          --kernels-dir  default: Jupyter's user data folder's kernels/ ($JUPYTER_DATA_DIR, else ~/.local/share/jupyter,
                         ~/Library/Jupyter on macOS, %APPDATA%\jupyter on Windows)
          --replace      write the default spec even over an existing or unreadable one
        """;
    public IEnumerable<string> Switches => new[] { "replace" };

    public int Run(CommandLine args)
    {
        var dir = args.Get("kernels-dir");
        bool replace = args.Flag("replace");
        args.RejectUnknown();
        var result = JupyterKernelSpec.Install(dir is null ? null : Path.GetFullPath(dir), replace, JupyterKernelSpec.InstalledToolResources());
        Console.WriteLine(result.Action);
        if (!JupyterKernelSpec.ToolInstalled())
            Console.Error.WriteLine("note: the .NET Interactive tool the spec starts is not in ~/.dotnet/tools: " +
                                    "dotnet tool install -g Microsoft.dotnet-interactive --version 1.0.712001");
        return 0;
    }
}
