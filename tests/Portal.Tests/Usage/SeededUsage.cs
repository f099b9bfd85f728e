using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Portal.Tests.Infrastructure;
using Proxy.Core.Persistence;

namespace Portal.Tests.Usage;

/// <summary>Many usage rows written straight into the gateway's database (SQLite or PostgreSQL), in time order as the writer appends them.</summary>
public static class SeededUsage
{
    private const int RowsPerStatement = 500;

    /// <summary><paramref name="count"/> rows of <paramref name="team"/>, the i-th started at <paramref name="start"/> + i × <paramref name="step"/>.</summary>
    public static async Task InsertAsync(GatewayFactory gateway, string team, int count, DateTime start, TimeSpan step, string prefix = "seeded")
    {
        await using var scope = gateway.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PortalDb>();
        var connection = db.Database.GetDbConnection();
        await connection.OpenAsync();
        await using var tx = await connection.BeginTransactionAsync();
        for (var first = 0; first < count; first += RowsPerStatement)
        {
            var rows = Math.Min(RowsPerStatement, count - first);
            await using var insert = connection.CreateCommand();
            insert.Transaction = tx;
            var values = new List<string>(rows);
            for (var r = 0; r < rows; r++)
            {
                var i = first + r;
                values.Add($"(@c{r}, 0, 'seeded-key-hash', @t, NULL, 'alpha', NULL, 'gpt-4o', 'chat/completions', 200, 11, 7, 18, FALSE, 0.001, 12.5, @s{r}, NULL, NULL)");
                Add(insert, $"@c{r}", $"{prefix}-{i}");
                Add(insert, $"@s{r}", DateTime.SpecifyKind(start + step * i, DateTimeKind.Utc));
            }
            Add(insert, "@t", team);
            insert.CommandText = """
                INSERT INTO usage_records ("CallId", "Attempt", "KeyHash", "TeamId", "UserId", "Model", "ModelId", "Deployment", "Route", "Status",
                "PromptTokens", "CompletionTokens", "TotalTokens", "TokensEstimated", "Spend", "LatencyMs", "StartedAt", "ResponseId", "Error") VALUES
                """ + string.Join(", ", values);
            await insert.ExecuteNonQueryAsync();
        }
        await tx.CommitAsync();
    }

    private static void Add(DbCommand command, string name, object value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value;
        command.Parameters.Add(parameter);
    }
}
