using System.Text;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Proxy.Core.Usage;

/// <summary>
/// Rows written into SQLite through prepared multi-row statements, bound by position. SQLite runs in-process, so there is
/// no round trip to save: statements of 32 rows (and of one, for the rest) are re-bound row after row, and a 32-row
/// step does a table's per-statement bookkeeping (AUTOINCREMENT's, an upsert's) once for them. Bound through SQLitePCL,
/// strings as UTF-8 spans from the stack, because SqliteCommand's parameters allocate per value per row.
/// </summary>
internal static class SqliteRows
{
    private const int PerStatement = 32;

    /// <param name="insert">The statement up to <c>VALUES</c>; the rows' placeholders follow it, then <paramref name="suffix"/>.</param>
    /// <param name="bind">Binds one row's <paramref name="width"/> values to parameters offset + 1 onwards.</param>
    public static void Write<T>(SqliteConnection connection, List<T> rows, string insert, int width, string suffix, Action<sqlite3_stmt, int, T> bind)
    {
        var at = 0;
        if (rows.Count >= PerStatement)
        {
            using var many = Prepare(connection, insert, width, PerStatement, suffix);
            for (; at + PerStatement <= rows.Count; at += PerStatement)
            {
                for (var row = 0; row < PerStatement; row++)
                {
                    bind(many, row * width, rows[at + row]);
                }
                Step(connection, many);
            }
        }
        if (at < rows.Count)
        {
            using var one = Prepare(connection, insert, width, 1, suffix);
            for (; at < rows.Count; at++)
            {
                bind(one, 0, rows[at]);
                Step(connection, one);
            }
        }
    }

    private static sqlite3_stmt Prepare(SqliteConnection connection, string insert, int width, int rows, string suffix)
    {
        var values = string.Join(", ", Enumerable.Range(0, rows).Select(row =>
            $"({string.Join(", ", Enumerable.Range(1, width).Select(column => $"?{(row * width) + column}"))})"));
        Check(connection, raw.sqlite3_prepare_v2(connection.Handle, insert + values + suffix, out var statement));
        return statement;
    }

    private static void Step(SqliteConnection connection, sqlite3_stmt statement)
    {
        if (raw.sqlite3_step(statement) != raw.SQLITE_DONE)
        {
            Check(connection, raw.sqlite3_errcode(connection.Handle));
        }
        raw.sqlite3_reset(statement);
    }

    public static void Text(sqlite3_stmt statement, int index, string? value)
    {
        if (value is null)
        {
            raw.sqlite3_bind_null(statement, index);
        }
        else if (value.Length == 0 || Encoding.UTF8.GetMaxByteCount(value.Length) > 512)
        {
            raw.sqlite3_bind_text(statement, index, value);
        }
        else
        {
            // UTF-8, the database's own encoding: a UTF-16 value is converted again inside SQLite, per value per row.
            Span<byte> utf8 = stackalloc byte[512];
            raw.sqlite3_bind_text(statement, index, utf8[..Encoding.UTF8.GetBytes(value, utf8)]);
        }
    }

    public static void Check(SqliteConnection connection, int result)
    {
        if (result != raw.SQLITE_OK)
        {
            SqliteException.ThrowExceptionForRC(result, connection.Handle);
        }
    }
}
