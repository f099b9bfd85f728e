using System.Data.Common;
using Proxy.Core.Reports;

namespace Proxy.Core.Usage;

/// <summary>Upserts a batch's daily sums into PostgreSQL (<see cref="PostgresRows"/>).</summary>
internal static class PostgresDailyUsageInserter
{
    public static Task UpsertAsync(DbConnection connection, DbTransaction tx, List<KeyValuePair<DailyUsageKey, DailyTotals>> rows) =>
        PostgresRows.WriteAsync(connection, tx, rows, DailyUsageTable.Insert, DailyUsageTable.OnConflict, Values);

    /// <summary>One row's values in <see cref="DailyUsageTable.Columns"/>' order.</summary>
    private static object?[] Values(KeyValuePair<DailyUsageKey, DailyTotals> row)
    {
        var (key, sums) = (row.Key, row.Value);
        return
        [
            key.Day, key.TeamId, key.KeyHash, key.UserId, key.Model, key.Provider, sums.Requests, sums.Successful, sums.Failed,
            sums.PromptTokens, sums.CompletionTokens, sums.CacheReadTokens, sums.CacheCreationTokens, sums.Spend,
        ];
    }
}
