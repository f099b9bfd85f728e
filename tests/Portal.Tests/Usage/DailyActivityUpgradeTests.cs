using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.EntityFrameworkCore.Migrations.Operations;
using Portal.Tests.Infrastructure;
using Proxy.Core.Persistence;

namespace Portal.Tests.Usage;

/// <summary>
/// A gateway upgraded to the daily aggregates keeps reporting the calls recorded before them: the migration that
/// creates <c>daily_usage</c> sums the rows already there once (its hand-written SQL, which must survive a
/// regeneration of the migrations).
/// </summary>
[Trait("Category", "Database")]
public sealed class DailyActivityUpgradeTests
{
    [Fact]
    public async Task TheMigration_SumsTheCallsRecordedBeforeIt_IntoTheAggregates()
    {
        var server = Environment.GetEnvironmentVariable("GATEWAY_TEST_POSTGRES");
        var file = Path.Combine(Path.GetTempPath(), $"gateway-upgrade-{Guid.NewGuid():N}.db");
        await using PortalDb db = server is null
            ? new SqlitePortalDb(new DbContextOptionsBuilder<SqlitePortalDb>().UseSqlite($"Data Source={file}").Options)
            : new PostgresPortalDb(new DbContextOptionsBuilder<PostgresPortalDb>().UseNpgsql($"{server};Database=gw_upgrade_{Guid.NewGuid():N}").Options);
        try
        {
            var migrations = db.GetService<IMigrationsAssembly>();
            var creating = migrations.Migrations.First(m => migrations.CreateMigration(m.Value, db.Database.ProviderName!).UpOperations
                .OfType<CreateTableOperation>().Any(t => t.Name == "daily_usage")).Key;
            await db.GetService<IMigrator>().MigrateAsync(migrations.Migrations.Keys.TakeWhile(k => k != creating).Last());

            // Calls of an older gateway: two teams and a key of none, either side of a midnight, one failed.
            var postgres = server is not null;
            var rows = new[]
            {
                ("team-a", "hash-1", "user-1", "alpha", 200, "2026-11-30 23:59:00", 0.25),
                ("team-a", "hash-1", "user-1", "alpha", 500, "2026-11-30 23:59:30", 0.0),
                ("team-a", "hash-2", null, "beta", 200, "2026-12-01 00:00:10", 0.5),
                ("team-b", "hash-3", "user-3", "alpha", 200, "2026-12-01 08:00:00", 1.0),
                (null, "hash-4", "user-4", "alpha", 200, "2026-12-01 09:00:00", 2.0),
            };
            var connection = (DbConnection)db.Database.GetDbConnection();
            await connection.OpenAsync();
            for (var i = 0; i < rows.Length; i++)
            {
                var (team, key, user, model, status, at, spend) = rows[i];
                await using var insert = connection.CreateCommand();
                insert.CommandText = "INSERT INTO usage_records (\"CallId\", \"Attempt\", \"KeyHash\", \"TeamId\", \"UserId\", \"Model\", \"Route\", \"Status\", " +
                    "\"PromptTokens\", \"CompletionTokens\", \"TotalTokens\", \"TokensEstimated\", \"Spend\", \"LatencyMs\", \"StartedAt\") VALUES " +
                    $"('call-{i}', 0, '{key}', {(team is null ? "NULL" : $"'{team}'")}, {(user is null ? "NULL" : $"'{user}'")}, '{model}', 'chat/completions', {status}, " +
                    $"11, 7, 18, {(postgres ? "false" : "0")}, {spend.ToString(System.Globalization.CultureInfo.InvariantCulture)}, 100, " +
                    $"{(postgres ? $"TIMESTAMPTZ '{at}+00'" : $"'{at}'")})";
                await insert.ExecuteNonQueryAsync();
            }
            await connection.CloseAsync();

            await db.Database.MigrateAsync();

            await connection.OpenAsync();
            Assert.Equal(rows.Length, await DailyActivityAgreement.AssertAsync(connection));
            await using var count = connection.CreateCommand();
            count.CommandText = "SELECT COUNT(*) FROM daily_usage";
            Assert.Equal(4L, Convert.ToInt64(await count.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture));
        }
        finally
        {
            if (server is null)
            {
                Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
                File.Delete(file);
            }
            else
            {
                await db.Database.EnsureDeletedAsync();
            }
        }
    }
}
