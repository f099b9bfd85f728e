using Microsoft.Data.Sqlite;
using Proxy.Core.Reports;
using SQLitePCL;

namespace Proxy.Core.Usage;

/// <summary>Upserts a batch's daily sums into SQLite (<see cref="SqliteRows"/>).</summary>
internal static class SqliteDailyUsageInserter
{
    public static void Upsert(SqliteConnection connection, List<KeyValuePair<DailyUsageKey, DailyTotals>> rows) =>
        SqliteRows.Write(connection, rows, DailyUsageTable.Insert, DailyUsageTable.Columns.Length, DailyUsageTable.OnConflict, Bind);

    /// <summary>One row's values, in <see cref="DailyUsageTable.Columns"/>' order; the day as EF writes a DateOnly (<c>yyyy-MM-dd</c>).</summary>
    private static void Bind(sqlite3_stmt statement, int offset, KeyValuePair<DailyUsageKey, DailyTotals> row)
    {
        var (key, sums) = (row.Key, row.Value);
        Span<byte> day = stackalloc byte[10];
        key.Day.TryFormat(day, out _, "yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        raw.sqlite3_bind_text(statement, offset + 1, day);
        SqliteRows.Text(statement, offset + 2, key.TeamId);
        SqliteRows.Text(statement, offset + 3, key.KeyHash);
        SqliteRows.Text(statement, offset + 4, key.UserId);
        SqliteRows.Text(statement, offset + 5, key.Model);
        SqliteRows.Text(statement, offset + 6, key.Provider);
        raw.sqlite3_bind_int64(statement, offset + 7, sums.Requests);
        raw.sqlite3_bind_int64(statement, offset + 8, sums.Successful);
        raw.sqlite3_bind_int64(statement, offset + 9, sums.Failed);
        raw.sqlite3_bind_int64(statement, offset + 10, sums.PromptTokens);
        raw.sqlite3_bind_int64(statement, offset + 11, sums.CompletionTokens);
        raw.sqlite3_bind_int64(statement, offset + 12, sums.CacheReadTokens);
        raw.sqlite3_bind_int64(statement, offset + 13, sums.CacheCreationTokens);
        raw.sqlite3_bind_double(statement, offset + 14, sums.Spend);
    }
}
