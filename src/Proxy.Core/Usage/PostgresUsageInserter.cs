using System.Data.Common;

namespace Proxy.Core.Usage;

/// <summary>Writes a batch of usage records into PostgreSQL (<see cref="PostgresRows"/>).</summary>
internal static class PostgresUsageInserter
{
    public static Task InsertAsync(DbConnection connection, DbTransaction tx, List<UsageRecord> batch) =>
        PostgresRows.WriteAsync(connection, tx, batch, UsageTable.Insert, "", Values);

    /// <summary>One row's values in <see cref="UsageTable.Columns"/>' order.</summary>
    private static object?[] Values(UsageRecord r) =>
    [
        r.CallId, r.Attempt, r.KeyHash, r.TeamId, r.UserId, r.Model, r.ModelId, r.Deployment, r.Route, r.Status, r.PromptTokens, r.CompletionTokens,
        r.TotalTokens, r.TokensEstimated, r.Spend, r.LatencyMs, r.StartedAt, r.ResponseId, r.Error,
        r.Provider, r.CacheReadTokens, r.CacheCreationTokens,
    ];
}
