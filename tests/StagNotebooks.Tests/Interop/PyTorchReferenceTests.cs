using StagNotebooks.Model;
using StagNotebooks.Tests.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace StagNotebooks.Tests.Interop;

/// <summary>
/// The workbench and interop/python/stagformer.py (plain PyTorch) agree: C# weights → safetensors → PyTorch logits,
/// PyTorch-initialised weights → C# logits, and the files are what standard readers expect. Needs a python3 with
/// torch (see <see cref="PythonTorch"/>): mandatory when CI=true.
/// </summary>
public class PyTorchReferenceTests
{
    /// <summary>
    /// fp32 logits of the two implementations agree to this, relative to the logits' scale max(1, max |logit|): the
    /// randomised weights (N(0, 0.3²)) give logits up to ~5, and two fp32 implementations (libtorch 2.10's SDPA and
    /// matmul kernels vs PyTorch 1.13 and attention written out) then differ by ~1e-5 absolute, ~2e-6 relative.
    /// A wrong mask, rotation or norm shows up as 1e-2 or more.
    /// </summary>
    const double Tolerance = 1e-5;

    /// <summary>max |Δ| / max(1, max |expected|), and the line that reports it.</summary>
    static (double Relative, string Line) Compare(string what, Tensor expected, Tensor actual)
    {
        Assert.Equal(expected.shape, actual.shape);
        double diff = (expected - actual).abs().max().item<float>(), scale = Math.Max(1.0, expected.abs().max().item<float>());
        return (diff / scale, $"{what}: max |Δ| {diff:G3}, max |logit| {scale:F2}, relative {diff / scale:G3}");
    }

    static readonly string[] Compared =
    {
        "p1", "p2-Separate-wfull", "p2-Shared-wfull", "p2-Separate-w3", "p2-Shared-w1", "p3-mix",
        "p3-Shared-w3", "p4-Separate-wfull", "p2-zero-empty", "p2-zero-empty-w1", "p2-learned-pos-gelu-untied", "p2-lag0", "p2-gate-head", "p3-Shared-gate-layer-w3",
    };

    static string WriteTokens(TestPaths.TempDir dir, StagFormerConfig c)
    {
        var path = dir.File("tokens.safetensors");
        Safetensors.Write(path, new Dictionary<string, Tensor> { ["tokens"] = Variants.Tokens(c, batch: 3, length: 16, seed: 11) });
        return path;
    }

    static Tensor ReadLogits(string path) => Safetensors.Read(path).Tensors["logits"];

    [Fact]
    public void PyTorch_reference_reproduces_the_workbench_logits()
    {
        if (PythonTorch.Require(nameof(PyTorch_reference_reproduces_the_workbench_logits)) is not { } python) return;
        using var dir = new TestPaths.TempDir();
        using var scope = torch.NewDisposeScope();
        using var ng = torch.no_grad();
        var tokensPath = WriteTokens(dir, Variants.Tiny);
        var tokens = Safetensors.Read(tokensPath).Tensors["tokens"];
        var args = new List<string> { PythonTorch.Script, "logits", tokensPath };
        var expected = new Dictionary<string, Tensor>();
        foreach (var name in Compared)
        {
            var m = Variants.Model(SafetensorsTests.Get(name));
            expected[name] = m.forward(new ModelInput(tokens)).Logits;
            SafetensorsCheckpoint.Save(m, dir.File($"{name}.safetensors"));
            args.AddRange(new[] { dir.File($"{name}.safetensors"), dir.File($"{name}.logits.safetensors") });
        }
        PythonTorch.Run(python, args.ToArray());
        var results = Compared.Select(name => Compare(name, expected[name], ReadLogits(dir.File($"{name}.logits.safetensors")))).ToList();
        var report = string.Join("\n  ", results.Select(r => r.Line));
        Console.Error.WriteLine("PyTorch reference vs workbench (fp32):\n  " + report);
        Assert.True(results.All(r => r.Relative <= Tolerance), $"the PyTorch reference differs by more than {Tolerance} of the logit scale:\n  " + report);
    }

    [Theory]
    [InlineData("p3-mix")]
    [InlineData("p2-Shared-w3")]
    [InlineData("p2-learned-pos-gelu-untied")]
    public void Weights_initialised_in_PyTorch_load_into_the_workbench(string variant)
    {
        if (PythonTorch.Require(nameof(Weights_initialised_in_PyTorch_load_into_the_workbench)) is not { } python) return;
        using var dir = new TestPaths.TempDir();
        using var scope = torch.NewDisposeScope();
        using var ng = torch.no_grad();
        var c = SafetensorsTests.Get(variant);
        File.WriteAllText(dir.File("config.json"), c.ToJson());
        var tokensPath = WriteTokens(dir, c);
        PythonTorch.Run(python, PythonTorch.Script, "init", dir.File("config.json"), dir.File("py.safetensors"), "--seed", "5", "--randomize",
            "--pt", dir.File("py.pt"), "--tokens", tokensPath, "--logits", dir.File("py.logits.safetensors"));

        var model = Checkpoint.Load(dir.File("py.safetensors"));
        model.eval();
        Assert.Equal(c, model.Config);
        var ours = model.forward(new ModelInput(Safetensors.Read(tokensPath).Tensors["tokens"])).Logits;
        var (relative, line) = Compare($"{variant}, PyTorch-initialised weights in C#", ReadLogits(dir.File("py.logits.safetensors")), ours);
        Console.Error.WriteLine(line);
        Assert.True(relative <= Tolerance, line);

        // torch.save's own file (PyTorch 1.13's zip + pickle) reads back through the .pt path to the same tensors.
        var fromPt = PyTorchStateDict.Read(dir.File("py.pt"));
        foreach (var (name, p) in model.state_dict())
            Assert.True(p.eq(fromPt[name]).all().item<bool>(), $"{name} differs between py.pt and py.safetensors");
    }

    [Fact]
    public void Saved_files_have_the_standard_safetensors_layout_and_pt_exports_load_with_torch_load()
    {
        if (PythonTorch.RequirePlain(nameof(Saved_files_have_the_standard_safetensors_layout_and_pt_exports_load_with_torch_load)) is not { } plain) return;
        using var dir = new TestPaths.TempDir();
        var c = Variants.Tiny with { Stacks = 3, Combination = StackCombination.LearnedLinear, CrossWindow = 3 };
        var m = Variants.Model(c);
        SafetensorsCheckpoint.Save(m, dir.File("fp32.safetensors"));
        SafetensorsCheckpoint.Save(m, dir.File("bf16.safetensors"), ScalarType.BFloat16);
        // The layout, read by the standard library only (not by our reader, nor by stagformer.py).
        File.WriteAllText(dir.File("layout.py"), """
            import json, struct, sys
            SIZE = {"F64": 8, "F32": 4, "BF16": 2, "F16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1}
            path, want_dtype, want_stacks = sys.argv[1], sys.argv[2], int(sys.argv[3])
            data = open(path, "rb").read()
            (n,) = struct.unpack("<Q", data[:8])
            assert n % 8 == 0 and 8 + n <= len(data), ("header length", n)
            header = json.loads(data[8:8 + n].decode("utf-8"))
            meta = header.pop("__metadata__")
            assert all(isinstance(v, str) for v in meta.values()) and meta["format"] == "pt", meta.keys()
            assert json.loads(meta["config"])["Stacks"] == want_stacks
            end = 0
            for name, e in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"][0]):
                b, f = e["data_offsets"]
                count = 1
                for s in e["shape"]:
                    count *= s
                assert b == end and f - b == count * SIZE[e["dtype"]], (name, e)
                assert e["dtype"] == want_dtype, (name, e["dtype"])
                end = f
            assert 8 + n + end == len(data), ("data section", end, len(data) - 8 - n)
            print("ok", len(header))
            """);
        int count = m.state_dict().Count;
        Assert.Equal($"ok {count}", PythonTorch.Run(plain, dir.File("layout.py"), dir.File("fp32.safetensors"), "F32", "3").Trim());
        Assert.Equal($"ok {count}", PythonTorch.Run(plain, dir.File("layout.py"), dir.File("bf16.safetensors"), "BF16", "3").Trim());

        if (PythonTorch.Require("pt export read by torch.load") is not { } python) return;
        PyTorchStateDict.Save(m, dir.File("export.pt"));
        File.WriteAllText(dir.File("ptcheck.py"), $$"""
            import sys, torch
            sys.path.insert(0, {{System.Text.Json.JsonSerializer.Serialize(Path.GetDirectoryName(PythonTorch.Script))}})
            import stagformer
            sd = torch.load(sys.argv[1])
            ref, _ = stagformer.load_safetensors(sys.argv[2])
            assert sorted(sd) == sorted(ref), (sorted(set(sd) ^ set(ref)))
            assert all(torch.equal(sd[k], ref[k]) for k in sd)
            config = stagformer.StagFormerConfig.from_json(open(sys.argv[3]).read())
            stagformer.StagFormer(config).load_state_dict(sd)
            print("ok", len(sd))
            """);
        Assert.Equal($"ok {count}", PythonTorch.Run(python, dir.File("ptcheck.py"), dir.File("export.pt"), dir.File("fp32.safetensors"), dir.File("export.config.json")).Trim());
    }
}
