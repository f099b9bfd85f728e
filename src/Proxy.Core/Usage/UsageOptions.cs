namespace Proxy.Core.Usage;

/// <summary>
/// The <c>Proxy:Usage</c> configuration section: how the call log is written and how long its rows and daily sums are
/// kept (docs/usage.md).
/// </summary>
public sealed class UsageOptions
{
    public const string Section = "Proxy:Usage";

    /// <summary>
    /// How long the usage writer gathers calls before it writes them as one batch. Also what a <c>kill -9</c> may lose:
    /// the default keeps every call answered a second before; longer batches write fewer pages per call (LiteLLM's
    /// <c>proxy_batch_write_at</c> trades the same way).
    /// </summary>
    public TimeSpan WriteInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>The longest a retention setting may be: about a century, far inside what a date can be moved back by.</summary>
    public const int MaxDays = 36_500;

    /// <summary>Raw <c>usage_records</c> rows older than this many days are deleted; 0 keeps them forever.</summary>
    public int RetentionDays { get; set; } = 90;

    /// <summary>Daily sums (<c>daily_usage</c>) older than this many days are deleted; 0 (the default) keeps them forever.</summary>
    public int DailyRetentionDays { get; set; }

    /// <summary>A start-up error naming the setting, or null when the section is valid.</summary>
    public string? Problem() =>
        WriteInterval < TimeSpan.FromMilliseconds(10) || WriteInterval > TimeSpan.FromMinutes(1)
            ? $"Proxy:Usage:WriteInterval must be between 00:00:00.01 and 00:01:00, not {WriteInterval}."
            : RetentionDays is < 0 or > MaxDays ? $"Proxy:Usage:RetentionDays must be a whole number of days from 0 (keep forever) to {MaxDays}, not {RetentionDays}."
            : DailyRetentionDays is < 0 or > MaxDays ? $"Proxy:Usage:DailyRetentionDays must be a whole number of days from 0 (keep forever) to {MaxDays}, not {DailyRetentionDays}."
            : null;
}
