using Microsoft.DotNet.Interactive;
using Microsoft.DotNet.Interactive.CSharp;
using Microsoft.DotNet.Interactive.PackageManagement;

namespace StagNotebooks.Notebooks;

/// <summary>
/// The .NET Interactive kernel as Polyglot Notebooks and Jupyter's .net-csharp kernel build it for C#: a composite
/// kernel holding the C# kernel with <c>#r "nuget:"</c>, the kernel helpers (<c>display</c>, <c>HTML</c>) and value
/// sharing. One kernel per notebook; disposing it releases what the notebook's cells held.
/// </summary>
public static class NotebookKernel
{
    public const string CSharp = "csharp";

    public static CompositeKernel Create()
    {
        var csharp = new CSharpKernel()
            .UseNugetDirective((kernel, packages) =>
            {
                // what the kernel app does with a restored package: its assemblies become references of the session
                kernel.AddAssemblyReferences(packages.SelectMany(p => p.AssemblyPaths));
                return Task.CompletedTask;
            })
            .UseKernelHelpers()
            .UseValueSharing();
        var composite = new CompositeKernel { csharp };
        composite.DefaultKernelName = CSharp;
        return composite;
    }
}
