namespace StagNotebooks.Tests.Notebooks;

/// <summary>
/// Notebook tests run alone, after the parallel ones: the kernel redirects Console process-wide while a cell runs,
/// and a notebook trains and decodes on libtorch's global generator, which another test class seeding it at the
/// same moment would race (seen once in a fresh clone: an internal libtorch assertion during notebook 08's training).
/// </summary>
[CollectionDefinition("notebooks", DisableParallelization = true)]
public sealed class NotebookCollection;
