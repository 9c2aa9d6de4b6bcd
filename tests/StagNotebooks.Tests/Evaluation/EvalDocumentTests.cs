using StagNotebooks.Evaluation;

namespace StagNotebooks.Tests.Evaluation;

public class EvalDocumentTests
{
    static readonly CharTokenizer Tok = new(" abcé");

    [Fact]
    public void Bytes_cover_exactly_the_scored_tokens()
    {
        var plain = EvalDocument.FromText(Tok, "éab c", "news");
        Assert.Equal(new long[] { 4, 1, 2, 0, 3 }, plain.Tokens);
        Assert.Equal(6 - 2, plain.Bytes);                          // 'é' is 2 UTF-8 bytes and only context
        var withBos = EvalDocument.FromText(Tok, "éab c", "news", bosToken: 0);
        Assert.Equal(new long[] { 0, 4, 1, 2, 0, 3 }, withBos.Tokens);
        Assert.Equal(6, withBos.Bytes);
    }
}
