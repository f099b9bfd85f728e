namespace Proxy.Core.Usage;

/// <summary>The <c>usage_records</c> table as the bulk inserters write it: its columns in order, and the INSERT they share.</summary>
internal static class UsageTable
{
    public static readonly string[] Columns =
    [
        "CallId", "Attempt", "KeyHash", "TeamId", "UserId", "Model", "ModelId", "Deployment", "Route", "Status", "PromptTokens", "CompletionTokens",
        "TotalTokens", "TokensEstimated", "Spend", "LatencyMs", "StartedAt", "ResponseId", "Error",
        "Provider", "CacheReadTokens", "CacheCreationTokens",
    ];

    public static readonly string Insert = $"INSERT INTO usage_records ({string.Join(", ", Columns.Select(c => $"\"{c}\""))}) VALUES ";
}
