using System.Data.Common;
using System.Text;
using Proxy.Core.Reports;

namespace Proxy.Core.Usage;

/// <summary>Upserts a batch's daily sums into PostgreSQL: many rows per statement, one round trip each (as <see cref="PostgresUsageInserter"/>).</summary>
internal static class PostgresDailyUsageInserter
{
    /// <summary>Rows per statement: 14 parameters each, well under PostgreSQL's parameter limit.</summary>
    private const int RowsPerStatement = 100;

    public static async Task UpsertAsync(DbConnection connection, DbTransaction tx, List<KeyValuePair<DailyUsageKey, DailyTotals>> rows)
    {
        for (var start = 0; start < rows.Count; start += RowsPerStatement)
        {
            var count = Math.Min(RowsPerStatement, rows.Count - start);
            await using var command = connection.CreateCommand();
            command.Transaction = tx;
            var values = new StringBuilder();
            for (var row = 0; row < count; row++)
            {
                var (key, sums) = (rows[start + row].Key, rows[start + row].Value);
                values.Append(row == 0 ? "(" : ",(");
                Add(command, values, row, 0, key.Day);
                Add(command, values, row, 1, key.TeamId);
                Add(command, values, row, 2, key.KeyHash);
                Add(command, values, row, 3, key.UserId);
                Add(command, values, row, 4, key.Model);
                Add(command, values, row, 5, key.Provider);
                Add(command, values, row, 6, sums.Requests);
                Add(command, values, row, 7, sums.Successful);
                Add(command, values, row, 8, sums.Failed);
                Add(command, values, row, 9, sums.PromptTokens);
                Add(command, values, row, 10, sums.CompletionTokens);
                Add(command, values, row, 11, sums.CacheReadTokens);
                Add(command, values, row, 12, sums.CacheCreationTokens);
                Add(command, values, row, 13, sums.Spend);
                values.Append(')');
            }
            command.CommandText = DailyUsageTable.Insert + values + DailyUsageTable.OnConflict;
            await command.ExecuteNonQueryAsync();
        }
    }

    private static void Add(DbCommand command, StringBuilder values, int row, int column, object value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = $"@d{row}_{column}";
        parameter.Value = value;
        command.Parameters.Add(parameter);
        values.Append(column == 0 ? "" : ",").Append(parameter.ParameterName);
    }
}
