// The shared set-up of every notebook: its second code cell says `#load "setup.csx"`, then its one set-up line,
// `var nb = Setup("03-training", Preset, Seeds, Device, RunsRoot, FiguresRoot);`.
// It references the workbench as built by `dotnet build -c Release` (with the -p:TorchBackend you chose: the
// notebooks themselves name no platform), registers how figures and tables are shown, and imports the workbench's
// namespaces (StagNotebooks.Workbench.NotebookSession.Namespaces) into the kernel for every later cell: a #load-ed
// script's own `using` lines stay inside it, so they are sent to the kernel as a deferred submission, the way
// .NET Interactive's own kernel helpers import theirs. The library loads TorchSharp's natives itself before its
// first use, so no cell order matters.
#r "../lib/StagNotebooks/bin/Release/net8.0/StagNotebooks.dll"

StagNotebooks.Reporting.NotebookFormatting.Register();
Microsoft.DotNet.Interactive.KernelInvocationContext.Current.HandlingKernel.DeferCommand(
    new Microsoft.DotNet.Interactive.Commands.SubmitCode(StagNotebooks.Workbench.NotebookSession.UsingDirectives));

/// <summary>The notebook's set-up (see StagNotebooks.Workbench.NotebookSession.Open); prints where it reads and writes.</summary>
StagNotebooks.Workbench.NotebookSession Setup(string notebook, string preset = "", int seeds = 1, string device = "auto",
                                             string runsRoot = "", string figuresRoot = "", string runsSubfolder = "")
{
    var session = StagNotebooks.Workbench.NotebookSession.Open(notebook, preset, seeds, device, runsRoot, figuresRoot, runsSubfolder);
    Console.WriteLine(session);
    return session;
}
