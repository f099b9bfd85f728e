namespace Proxy.Core.Reports;

/// <summary>One UTC day of a report: its sums, and the same split by public model, by provider and by key hash.</summary>
public sealed record ActivityDay(
    DateOnly Date,
    ActivityMetrics Metrics,
    IReadOnlyDictionary<string, ActivityMetrics> Models,
    IReadOnlyDictionary<string, ActivityMetrics> Providers,
    IReadOnlyDictionary<string, KeyActivity> ApiKeys);
