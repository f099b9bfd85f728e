namespace Proxy.Core.Reports;

/// <summary>A page of days (newest first) and the sums over the whole query, not just the page.</summary>
public sealed record ActivityReport(IReadOnlyList<ActivityDay> Results, ActivityMetrics Totals, int Page, int TotalPages, bool HasMore);
