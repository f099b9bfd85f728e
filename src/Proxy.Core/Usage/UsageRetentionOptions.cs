namespace Proxy.Core.Usage;

/// <summary>The <c>Proxy:Usage</c> retention settings: how long raw call rows and daily sums are kept (docs/usage.md#retention).</summary>
public sealed class UsageRetentionOptions
{
    public const string Section = "Proxy:Usage";

    /// <summary>The longest a setting may be: about a century, far inside what a date can be moved back by.</summary>
    public const int MaxDays = 36_500;

    /// <summary>Raw <c>usage_records</c> rows older than this many days are deleted; 0 keeps them forever.</summary>
    public int RetentionDays { get; set; } = 90;

    /// <summary>Daily sums (<c>daily_usage</c>) older than this many days are deleted; 0 (the default) keeps them forever.</summary>
    public int DailyRetentionDays { get; set; }

    /// <summary>A start-up error naming the setting, or null when the section is valid.</summary>
    public string? Problem() =>
        RetentionDays is < 0 or > MaxDays ? $"Proxy:Usage:RetentionDays must be a whole number of days from 0 (keep forever) to {MaxDays}, not {RetentionDays}."
            : DailyRetentionDays is < 0 or > MaxDays ? $"Proxy:Usage:DailyRetentionDays must be a whole number of days from 0 (keep forever) to {MaxDays}, not {DailyRetentionDays}."
            : null;
}
