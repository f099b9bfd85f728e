namespace Proxy.Core.Reports;

/// <summary>The <c>daily_usage</c> table as the writer's upserts name it: its columns in order, and the statement they share.</summary>
internal static class DailyUsageTable
{
    public const string Name = "daily_usage";

    /// <summary>The grouping columns (the primary key), then the sums.</summary>
    public static readonly string[] Columns =
    [
        "Day", "TeamId", "KeyHash", "UserId", "Model", "Provider",
        "ApiRequests", "SuccessfulRequests", "FailedRequests", "PromptTokens", "CompletionTokens", "CacheReadTokens", "CacheCreationTokens", "Spend",
    ];

    private const int KeyColumns = 6;

    public static readonly string Insert = $"INSERT INTO {Name} ({string.Join(", ", Columns.Select(c => $"\"{c}\""))}) VALUES ";

    /// <summary>What follows the VALUES: a row already there gets the batch's sums added, so every instance's batches all count.</summary>
    public static readonly string OnConflict =
        $" ON CONFLICT ({string.Join(", ", Columns.Take(KeyColumns).Select(c => $"\"{c}\""))}) DO UPDATE SET " +
        string.Join(", ", Columns.Skip(KeyColumns).Select(c => $"\"{c}\" = {Name}.\"{c}\" + excluded.\"{c}\""));
}
