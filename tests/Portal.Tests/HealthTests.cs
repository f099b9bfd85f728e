using System.Net;
using Portal.Tests.Infrastructure;

namespace Portal.Tests;

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
    }
}
