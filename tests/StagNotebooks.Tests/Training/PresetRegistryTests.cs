using StagNotebooks.Data;
using StagNotebooks.Model;
using StagNotebooks.Training;
using Xunit;

namespace StagNotebooks.Tests.Training;

public class PresetRegistryTests
{
    [Fact]
    public void DocsPresetsIsGeneratedFromTheRegistry() =>
        Assert.Equal(Presets.Markdown(), File.ReadAllText(TestPaths.Repo("docs", "presets.md")));

    [Fact]
    public void UnknownPresetNamesTheValueAndTheKnownOnes()
    {
        var e = Assert.Throws<ConfigException>(() => Presets.Get("cpu-tiny"));
        Assert.Equal("preset", e.Field);
        Assert.StartsWith("config field preset: unknown preset 'cpu-tiny'; known: smoke, cpu-small, cpu-fidelity,", e.Message);
    }

    [Fact]
    public void APresetOfTheOtherKindIsAnErrorNamingTheOnesThatFit()
    {
        var e = Assert.Throws<ConfigException>(() => Presets.Config("synth-small"));
        Assert.Equal("config field preset: 'synth-small' is a synthetic preset; this needs a text one: " + string.Join(", ", Presets.Names(PresetKind.Text)), e.Message);
        Assert.Throws<ConfigException>(() => Presets.Get("cpu-small", PresetKind.Synthetic));
    }

    [Fact]
    public void EveryPresetValidatesNamesItselfAndItsDataExists()
    {
        Assert.Equal(Presets.All.Count, Presets.All.Select(p => p.Name).Distinct().Count());
        foreach (var p in Presets.All)
        {
            Assert.Equal(p.Name, Presets.Get(p.Name).Config.Preset);
            if (p.Kind == PresetKind.Text) Assert.True(TokenizerFactory.Create(p.Tokenizer!).VocabSize > 0, p.Name);
            else Assert.True(p.Config.Model.VocabSize > 0, p.Name);
        }
    }

    [Fact]
    public void HelpListsEveryPresetOfAKindWithItsPurpose()
    {
        var help = Presets.Help(PresetKind.Text, "  ");
        foreach (var p in Presets.All.Where(p => p.Kind == PresetKind.Text)) Assert.Contains($"{p.Name}", help);
        Assert.DoesNotContain("synth-small", help);
        Assert.Contains(Presets.Get("cpu-fidelity").Purpose, help);
    }
}
