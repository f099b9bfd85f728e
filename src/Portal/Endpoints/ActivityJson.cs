using System.ComponentModel;
using Proxy.Core.Reports;

namespace Portal.Endpoints;

/// <summary>LiteLLM's <c>SpendAnalyticsPaginatedResponse</c>: a page of days, newest first, and the totals of the whole query.</summary>
public sealed record ActivityReportJson(List<ActivityDayJson> Results, ActivityMetadataJson Metadata)
{
    public static ActivityReportJson Of(ActivityReport report) => new(
        [.. report.Results.Select(day => new ActivityDayJson(day.Date, ActivityMetricsJson.Of(day.Metrics), new ActivityBreakdownJson(
            day.Models.ToDictionary(m => m.Key, m => new ActivityEntryJson(ActivityMetricsJson.Of(m.Value), new EmptyMetadataJson()), StringComparer.Ordinal),
            day.Providers.ToDictionary(p => p.Key, p => new ActivityEntryJson(ActivityMetricsJson.Of(p.Value), new EmptyMetadataJson()), StringComparer.Ordinal),
            day.ApiKeys.ToDictionary(k => k.Key, k => new KeyActivityJson(ActivityMetricsJson.Of(k.Value.Metrics), new KeyMetadataJson(k.Value.KeyAlias, k.Value.TeamId)), StringComparer.Ordinal))))],
        new ActivityMetadataJson(report.Totals.Spend, report.Totals.PromptTokens, report.Totals.CompletionTokens, report.Totals.TotalTokens,
            report.Totals.ApiRequests, report.Totals.SuccessfulRequests, report.Totals.FailedRequests, report.Totals.CacheReadInputTokens,
            report.Totals.CacheCreationInputTokens, report.Page, report.TotalPages, report.HasMore));
}

/// <summary>One UTC day: its sums, and the same split by public model, provider and key.</summary>
public sealed record ActivityDayJson(
    [property: Description("The UTC day, YYYY-MM-DD.")] DateOnly Date,
    ActivityMetricsJson Metrics,
    ActivityBreakdownJson Breakdown);

/// <summary>LiteLLM's <c>SpendMetrics</c>.</summary>
public sealed record ActivityMetricsJson(
    [property: Description("USD.")] double Spend,
    long PromptTokens,
    long CompletionTokens,
    [property: Description("Of prompt_tokens, those read from the provider's prompt cache.")] long CacheReadInputTokens,
    [property: Description("Of prompt_tokens, those written to the provider's prompt cache.")] long CacheCreationInputTokens,
    long TotalTokens,
    [property: Description("Attempts, as /spend/logs has rows: a retried call counts each attempt.")] long ApiRequests,
    long SuccessfulRequests,
    long FailedRequests)
{
    public static ActivityMetricsJson Of(ActivityMetrics m) => new(m.Spend, m.PromptTokens, m.CompletionTokens, m.CacheReadInputTokens,
        m.CacheCreationInputTokens, m.TotalTokens, m.ApiRequests, m.SuccessfulRequests, m.FailedRequests);
}

/// <summary>A day's sums by public model name, by provider (<c>unknown</c> when not recorded) and by key hash.</summary>
public sealed record ActivityBreakdownJson(
    Dictionary<string, ActivityEntryJson> Models,
    Dictionary<string, ActivityEntryJson> Providers,
    [property: Description("By the key's SHA-256 hex, never the raw key.")] Dictionary<string, KeyActivityJson> ApiKeys);

public sealed record ActivityEntryJson(ActivityMetricsJson Metrics, EmptyMetadataJson Metadata);

public sealed record KeyActivityJson(ActivityMetricsJson Metrics, KeyMetadataJson Metadata);

/// <summary>The key as the key list names it; null for a key deleted since (its team is then the one it called for).</summary>
public sealed record KeyMetadataJson(string? KeyAlias, string? TeamId);

/// <summary>LiteLLM's empty <c>metadata</c> object of a model or provider.</summary>
public sealed record EmptyMetadataJson;

/// <summary>LiteLLM's <c>DailySpendMetadata</c>: the totals over the whole query (every page), and where the page is.</summary>
public sealed record ActivityMetadataJson(
    double TotalSpend, long TotalPromptTokens, long TotalCompletionTokens, long TotalTokens, long TotalApiRequests,
    long TotalSuccessfulRequests, long TotalFailedRequests, long TotalCacheReadInputTokens, long TotalCacheCreationInputTokens,
    int Page,
    [property: Description("Pages of days over the range's days that had activity.")] int TotalPages,
    bool HasMore);
