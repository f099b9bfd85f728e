namespace Proxy.Core.Reports;

/// <summary>One key's share of a day, named as the key list names it: its alias and team, never the raw key.</summary>
public sealed record KeyActivity(ActivityMetrics Metrics, string? KeyAlias, string? TeamId);
