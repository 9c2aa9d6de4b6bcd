using StagNotebooks.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace StagNotebooks.Tests.Foundation;

public class TorchLoadsTests
{
    [Fact]
    public void Matmul_computes_in_the_test_process()
    {
        TorchRuntime.EnsureLoaded();
        using var a = torch.tensor(new float[] { 1, 2, 3, 4 }, 2, 2);
        using var b = torch.tensor(new float[] { 5, 6, 7, 8 }, 2, 2);
        using var c = torch.matmul(a, b);
        Assert.Equal(new float[] { 19, 22, 43, 50 }, c.data<float>().ToArray());
    }

    [Fact]
    public void Scaled_dot_product_attention_matches_the_softmax_formula()
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(1);
        var q = torch.randn(2, 3, 5, 8);   // (B, H, T, D)
        var k = torch.randn(2, 3, 5, 8);
        var v = torch.randn(2, 3, 5, 8);
        var sdpa = nn.functional.scaled_dot_product_attention(q, k, v, is_casual: true);

        var scores = torch.matmul(q, k.transpose(-2, -1)) / Math.Sqrt(8);
        var causal = torch.ones(5, 5, dtype: ScalarType.Bool).tril();
        var manual = torch.matmul(scores.masked_fill(causal.logical_not(), float.NegativeInfinity).softmax(-1), v);
        Assert.True(torch.allclose(sdpa, manual, rtol: 1e-5, atol: 1e-5));
    }

    [Fact]
    public void Doctor_reads_the_weak_flag_from_the_libLibTorchSharp_this_process_loaded()
    {
        var compat = TorchRuntime.LibStdCxx;
        if (!OperatingSystem.IsLinux()) { Assert.Null(compat.LoadedLibrary); return; }
        // Every Linux build patches, whatever the host's libstdc++: the loaded copy asks for GLIBCXX_3.4.32 weakly.
        Assert.NotNull(compat.LoadedLibrary);
        Assert.Equal(LibStdCxxCompat.TorchSharpNative, Path.GetFileName(compat.LoadedLibrary));
        Assert.True(compat.PatchInEffect, compat.Describe());
        Assert.Equal(VersionNeedState.Weak, ElfVersionNeeds.Read(compat.LoadedLibrary!, "GLIBCXX_3.4.32"));
        // The host check agrees with a plain byte search of the libstdc++ the process mapped.
        Assert.NotNull(compat.LibStdCxx);
        bool hostHasVersion = System.Text.Encoding.ASCII.GetString(File.ReadAllBytes(compat.LibStdCxx!)).Contains("GLIBCXX_3.4.32\0");
        Assert.Equal(hostHasVersion, compat.LibStdCxxHasVersion);
        Assert.Equal($"GLIBCXX_3.4.32 weak in {compat.LoadedLibrary} (system libstdc++ {(hostHasVersion ? "has" : "lacks")} it: {compat.LibStdCxx})", compat.Describe());
    }

    [Theory]
    [InlineData("cpu", "cpu")]
    [InlineData("CPU", "cpu")]
    public void Device_is_chosen_at_run_time(string spec, string expected)
    {
        Assert.Equal(expected, TorchRuntime.ResolveDevice(spec).ToString());
        var auto = TorchRuntime.ResolveDevice("auto");
        Assert.Equal(torch.cuda.is_available() ? DeviceType.CUDA : DeviceType.CPU, auto.type);
    }

    [Fact]
    public void Unknown_device_names_the_choices()
    {
        var e = Assert.Throws<ArgumentException>(() => TorchRuntime.ResolveDevice("tpu"));
        Assert.Equal("--device tpu: expected auto, cpu, cuda or cuda:N.", e.Message);
        if (!torch.cuda.is_available())
        {
            var c = Assert.Throws<ArgumentException>(() => TorchRuntime.ResolveDevice("cuda"));
            Assert.StartsWith("--device cuda: CUDA is not available (backend 'cpu';", c.Message);
        }
    }
}
