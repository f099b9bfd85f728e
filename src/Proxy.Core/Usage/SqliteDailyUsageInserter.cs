using Microsoft.Data.Sqlite;
using Proxy.Core.Reports;
using SQLitePCL;

namespace Proxy.Core.Usage;

/// <summary>Upserts a batch's daily sums into SQLite through prepared multi-row statements, bound by position (as <see cref="SqliteUsageInserter"/>).</summary>
internal static class SqliteDailyUsageInserter
{
    private const int RowsPerStatement = 32;

    public static void Upsert(SqliteConnection connection, List<KeyValuePair<DailyUsageKey, DailyTotals>> rows)
    {
        var at = 0;
        if (rows.Count >= RowsPerStatement)
        {
            using var many = Prepare(connection, RowsPerStatement);
            for (; at + RowsPerStatement <= rows.Count; at += RowsPerStatement)
            {
                for (var row = 0; row < RowsPerStatement; row++)
                {
                    Bind(many, row * DailyUsageTable.Columns.Length, rows[at + row]);
                }
                Step(connection, many);
            }
        }
        if (at < rows.Count)
        {
            using var one = Prepare(connection, 1);
            for (; at < rows.Count; at++)
            {
                Bind(one, 0, rows[at]);
                Step(connection, one);
            }
        }
    }

    private static sqlite3_stmt Prepare(SqliteConnection connection, int rows)
    {
        var width = DailyUsageTable.Columns.Length;
        var values = string.Join(", ", Enumerable.Range(0, rows).Select(row =>
            $"({string.Join(", ", Enumerable.Range(1, width).Select(column => $"?{(row * width) + column}"))})"));
        SqliteUsageInserter.Check(connection, raw.sqlite3_prepare_v2(connection.Handle, DailyUsageTable.Insert + values + DailyUsageTable.OnConflict, out var statement));
        return statement;
    }

    /// <summary>One row's values, in <see cref="DailyUsageTable.Columns"/>' order; the day as EF writes a DateOnly (<c>yyyy-MM-dd</c>).</summary>
    private static void Bind(sqlite3_stmt statement, int offset, KeyValuePair<DailyUsageKey, DailyTotals> row)
    {
        var (key, sums) = (row.Key, row.Value);
        Span<byte> day = stackalloc byte[10];
        key.Day.TryFormat(day, out _, "yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        raw.sqlite3_bind_text(statement, offset + 1, day);
        SqliteUsageInserter.Text(statement, offset + 2, key.TeamId);
        SqliteUsageInserter.Text(statement, offset + 3, key.KeyHash);
        SqliteUsageInserter.Text(statement, offset + 4, key.UserId);
        SqliteUsageInserter.Text(statement, offset + 5, key.Model);
        SqliteUsageInserter.Text(statement, offset + 6, key.Provider);
        raw.sqlite3_bind_int64(statement, offset + 7, sums.Requests);
        raw.sqlite3_bind_int64(statement, offset + 8, sums.Successful);
        raw.sqlite3_bind_int64(statement, offset + 9, sums.Failed);
        raw.sqlite3_bind_int64(statement, offset + 10, sums.PromptTokens);
        raw.sqlite3_bind_int64(statement, offset + 11, sums.CompletionTokens);
        raw.sqlite3_bind_int64(statement, offset + 12, sums.CacheReadTokens);
        raw.sqlite3_bind_int64(statement, offset + 13, sums.CacheCreationTokens);
        raw.sqlite3_bind_double(statement, offset + 14, sums.Spend);
    }

    private static void Step(SqliteConnection connection, sqlite3_stmt statement)
    {
        if (raw.sqlite3_step(statement) != raw.SQLITE_DONE)
        {
            SqliteUsageInserter.Check(connection, raw.sqlite3_errcode(connection.Handle));
        }
        raw.sqlite3_reset(statement);
    }
}
