using System.Text;
using Proxy.Core.Spend;

namespace Portal.Tests.Spend;

/// <summary>What a call reserves against its budgets: body bytes as input tokens, its output limit times its choices.</summary>
public sealed class WorstCaseTests
{
    private static readonly Price Price = new(InputCostPerToken: 0.001, OutputCostPerToken: 0.002, CacheCreationInputTokenCost: 0.00125);

    [Theory]
    [InlineData("""{"model":"m","max_tokens":7}""", 7)]
    [InlineData("""{"model":"m","max_completion_tokens":9}""", 9)]
    [InlineData("""{"model":"m","max_output_tokens":11}""", 11)]
    [InlineData("""{"model":"m","max_tokens":5,"n":3}""", 15)]
    [InlineData("""{"model":"m","metadata":{"max_tokens":99999}}""", 100)]
    [InlineData("""{"model":"m"}""", 100)]
    [InlineData("not json at all", 100)]
    public void ReservesEveryBodyByte_AtTheDearerInputPrice_AndTheOutputLimitTimesChoices(string body, int outputTokens)
    {
        var cost = WorstCase.Cost(Encoding.UTF8.GetBytes(body), Price, defaultOutputTokens: 100);

        Assert.Equal(Encoding.UTF8.GetByteCount(body) * 0.00125 + outputTokens * 0.002, cost, 12);
    }
}
