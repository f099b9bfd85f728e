namespace Proxy.Core.Reports;

/// <summary>LiteLLM's <c>SpendMetrics</c>: what calls cost and used, summed over a day, a model, a key or a report.</summary>
public sealed record ActivityMetrics(
    double Spend, long PromptTokens, long CompletionTokens, long CacheReadInputTokens, long CacheCreationInputTokens,
    long ApiRequests, long SuccessfulRequests, long FailedRequests)
{
    public static readonly ActivityMetrics Zero = new(0, 0, 0, 0, 0, 0, 0, 0);

    public long TotalTokens => PromptTokens + CompletionTokens;

    public ActivityMetrics Plus(ActivityMetrics other) => new(
        Spend + other.Spend, PromptTokens + other.PromptTokens, CompletionTokens + other.CompletionTokens,
        CacheReadInputTokens + other.CacheReadInputTokens, CacheCreationInputTokens + other.CacheCreationInputTokens,
        ApiRequests + other.ApiRequests, SuccessfulRequests + other.SuccessfulRequests, FailedRequests + other.FailedRequests);
}
