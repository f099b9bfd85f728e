using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Portal.Tests.Infrastructure;
using Proxy.Core.Persistence;
using Calls = Portal.Tests.Spend.Spend;

namespace Portal.Tests.Usage;

public sealed class UsageWriterTests
{
    /// <summary>
    /// The usage writer gives its connection a 64 MB page cache for a batch. Connections come from the pool, so a cache
    /// left on them would stay resident on every pooled connection in turn (about 120 MB more at the scale benchmark).
    /// </summary>
    [Fact]
    public async Task AfterABatch_NoPooledConnection_KeepsTheWritersPageCache()
    {
        if (GatewayFactory.OnPostgres)
        {
            return;
        }
        await using var upstream = new StandInUpstream();
        await using var gateway = new GatewayFactory();
        var team = await gateway.CreateTeamAsync();
        var key = await gateway.GenerateKeyAsync(team);
        await gateway.AddTeamModelAsync(key, team, apiBase: upstream.ApiBase("ok", out _));
        for (var i = 0; i < 5; i++)
        {
            await Calls.CallAsync(gateway, key);
        }
        Assert.Equal(5, (await Calls.LogsAsync(gateway, team, 5)).Count);

        string pool;
        using (var scope = gateway.Services.CreateScope())
        {
            pool = scope.ServiceProvider.GetRequiredService<PortalDb>().Database.GetConnectionString()!;
        }
        // More connections than the pool holds idle, so the writer's is among them.
        var connections = new List<SqliteConnection>();
        try
        {
            for (var i = 0; i < 16; i++)
            {
                var connection = new SqliteConnection(pool);
                await connection.OpenAsync();
                connections.Add(connection);
            }
            foreach (var connection in connections)
            {
                await using var command = connection.CreateCommand();
                command.CommandText = "PRAGMA cache_size";
                Assert.Equal(-2000L, await command.ExecuteScalarAsync());
            }
        }
        finally
        {
            foreach (var connection in connections)
            {
                await connection.DisposeAsync();
            }
        }
    }
}
