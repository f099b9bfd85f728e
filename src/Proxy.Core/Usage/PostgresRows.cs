using System.Data.Common;
using System.Text;

namespace Proxy.Core.Usage;

/// <summary>Rows written into PostgreSQL, a network hop away: 100 rows per statement, one round trip each.</summary>
internal static class PostgresRows
{
    /// <summary>Rows per statement: at 22 values a row, well under PostgreSQL's parameter limit.</summary>
    private const int PerStatement = 100;

    /// <param name="insert">The statement up to <c>VALUES</c>; the rows' parameters follow it, then <paramref name="suffix"/>.</param>
    /// <param name="values">One row's values, in the statement's column order.</param>
    public static async Task WriteAsync<T>(DbConnection connection, DbTransaction tx, List<T> rows, string insert, string suffix, Func<T, object?[]> values)
    {
        for (var start = 0; start < rows.Count; start += PerStatement)
        {
            await using var command = connection.CreateCommand();
            command.Transaction = tx;
            var text = new StringBuilder(insert);
            for (var row = 0; row < Math.Min(PerStatement, rows.Count - start); row++)
            {
                var fields = values(rows[start + row]);
                text.Append(row == 0 ? "(" : ",(");
                for (var column = 0; column < fields.Length; column++)
                {
                    var parameter = command.CreateParameter();
                    parameter.ParameterName = $"@p{row}_{column}";
                    parameter.Value = fields[column] ?? DBNull.Value;
                    command.Parameters.Add(parameter);
                    text.Append(column == 0 ? "" : ",").Append(parameter.ParameterName);
                }
                text.Append(')');
            }
            command.CommandText = text.Append(suffix).ToString();
            await command.ExecuteNonQueryAsync();
        }
    }
}
