using System.Runtime.CompilerServices;

namespace StagNotebooks.Runtime;

/// <summary>
/// Loads TorchSharp's natives when this library is first used, before any of its code runs. Why: TorchSharp loads
/// libtorch in the static constructor of <c>torch</c>, but <c>nn.Module</c>'s constructor calls native code without
/// touching <c>torch</c>; a notebook whose first native call is <c>new StagFormerModel(...)</c> would otherwise fail
/// with DllNotFoundException: LibTorchSharp.
/// </summary>
static class LibraryInitializer
{
#pragma warning disable CA2255   // a library module initializer is the point here
    [ModuleInitializer]
    internal static void LoadTorch()
    {
        try { TorchRuntime.EnsureLoaded(); }
        catch (TorchUnavailableException) { }   // remembered; EnsureLoaded rethrows it with the explanation at first real use
    }
#pragma warning restore CA2255
}
