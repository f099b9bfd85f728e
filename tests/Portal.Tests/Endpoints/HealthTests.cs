using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Portal.Tests.Infrastructure;
using Proxy.Core.Persistence;

namespace Portal.Tests.Endpoints;

[Trait("Category", "Database")]
public sealed class HealthTests(GatewayFactory gateway) : IClassFixture<GatewayFactory>
{
    [Theory]
    [InlineData("/health/liveliness")]
    [InlineData("/health/liveness")]
    public async Task Liveness_NeedsNoKey(string path)
    {
        var body = await gateway.Client(key: null).GetStringAsync(path);

        Assert.Equal("\"I'm alive!\"", body);
    }

    [Fact]
    public async Task Readiness_ReportsTheDatabase()
    {
        var json = await (await gateway.Client(key: null).GetAsync("/health/readiness")).ReadJsonAsync(HttpStatusCode.OK);

        Assert.Equal("healthy", json["status"]!.GetValue<string>());
        Assert.Equal("connected", json["db"]!.GetValue<string>());
        Assert.Equal("applied", json["migrations"]!.GetValue<string>());
        Assert.Equal("loaded", json["route_snapshot"]!.GetValue<string>());
    }

    /// <summary>A database behind this build (restored from an old backup, or another version rolled it back) is not ready.</summary>
    [Fact]
    public async Task Readiness_Is503_WhileTheDatabaseLacksAMigrationOfThisBuild()
    {
        await using var own = new GatewayFactory();
        _ = own.BaseAddress;
        await using (var scope = own.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<PortalDb>();
            var last = (await db.Database.GetAppliedMigrationsAsync()).Last();
            await db.Database.ExecuteSqlRawAsync("DELETE FROM \"__EFMigrationsHistory\" WHERE \"MigrationId\" = {0}", last);
        }

        var json = await (await own.Client(key: null).GetAsync("/health/readiness")).ReadJsonAsync(HttpStatusCode.ServiceUnavailable);

        Assert.Equal("unhealthy", json["status"]!.GetValue<string>());
        Assert.Equal("connected", json["db"]!.GetValue<string>());
        Assert.Equal("1 pending", json["migrations"]!.GetValue<string>());
        // Liveness is not readiness: the process is up, an orchestrator must not restart it for this.
        Assert.Equal(HttpStatusCode.OK, (await own.Client(key: null).GetAsync("/health/liveliness")).StatusCode);
    }
}
