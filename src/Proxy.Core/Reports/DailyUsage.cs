namespace Proxy.Core.Reports;

/// <summary>
/// One row of the daily aggregates (<c>daily_usage</c>): the usage rows of one UTC day, team, key, user, public model
/// and provider, summed. The usage writer adds each batch's sums in the same transaction as its rows, so the two always
/// agree; the daily reports read only these rows, never the raw ones. A missing team or user is "" (not NULL), so the
/// primary key over the six grouping columns holds on SQLite and PostgreSQL alike.
/// </summary>
public sealed class DailyUsage
{
    public DateOnly Day { get; set; }
    public string TeamId { get; set; } = "";

    /// <summary>The calling key's hash (<c>KeyMaterial.ToHash</c>); the master key's calls are under its actor name.</summary>
    public string KeyHash { get; set; } = "";
    public string UserId { get; set; } = "";

    /// <summary>The public model name the caller sent.</summary>
    public string Model { get; set; } = "";
    public string Provider { get; set; } = "";

    /// <summary>Attempts, as <c>/spend/logs</c> has rows: a retried call counts each attempt.</summary>
    public long ApiRequests { get; set; }

    /// <summary>Attempts answered with a status below 400.</summary>
    public long SuccessfulRequests { get; set; }
    public long FailedRequests { get; set; }
    public long PromptTokens { get; set; }
    public long CompletionTokens { get; set; }
    public long CacheReadTokens { get; set; }
    public long CacheCreationTokens { get; set; }

    /// <summary>USD.</summary>
    public double Spend { get; set; }
}
