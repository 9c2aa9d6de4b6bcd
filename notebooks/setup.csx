// The shared set-up of every notebook (its first code cell says `#load "setup.csx"`, then its usings).
// It references the workbench as built by `dotnet build -c Release` (with the -p:TorchBackend you chose: the
// notebooks themselves name no platform) and registers how figures and tables are shown. The library loads
// TorchSharp's natives itself before its first use, so no cell order matters.
#r "../lib/StagNotebooks/bin/Release/net8.0/StagNotebooks.dll"

StagNotebooks.Reporting.NotebookFormatting.Register();
