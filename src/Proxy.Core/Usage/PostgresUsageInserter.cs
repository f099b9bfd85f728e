using System.Data.Common;
using System.Text;

namespace Proxy.Core.Usage;

/// <summary>PostgreSQL is a network hop away: many rows per statement, one round trip each.</summary>
internal static class PostgresUsageInserter
{
    /// <summary>Rows per INSERT statement: 22 parameters each, well under PostgreSQL's parameter limit.</summary>
    private const int RowsPerStatement = 100;

    public static async Task InsertAsync(DbConnection connection, DbTransaction tx, List<UsageRecord> batch)
    {
        foreach (var rows in batch.Chunk(RowsPerStatement))
        {
            await using var command = connection.CreateCommand();
            command.Transaction = tx;
            var values = new StringBuilder();
            for (var row = 0; row < rows.Length; row++)
            {
                var fields = Values(rows[row]);
                values.Append(row == 0 ? "(" : ",(");
                for (var column = 0; column < fields.Length; column++)
                {
                    var parameter = command.CreateParameter();
                    parameter.ParameterName = $"@p{row}_{column}";
                    parameter.Value = fields[column] ?? DBNull.Value;
                    command.Parameters.Add(parameter);
                    values.Append(column == 0 ? "" : ",").Append(parameter.ParameterName);
                }
                values.Append(')');
            }
            command.CommandText = UsageTable.Insert + values;
            await command.ExecuteNonQueryAsync();
        }
    }

    /// <summary>One row's values in <see cref="UsageTable.Columns"/>' order.</summary>
    private static object?[] Values(UsageRecord r) =>
    [
        r.CallId, r.Attempt, r.KeyHash, r.TeamId, r.UserId, r.Model, r.ModelId, r.Deployment, r.Route, r.Status, r.PromptTokens, r.CompletionTokens,
        r.TotalTokens, r.TokensEstimated, r.Spend, r.LatencyMs, r.StartedAt, r.ResponseId, r.Error,
        r.Provider, r.CacheReadTokens, r.CacheCreationTokens,
    ];
}
