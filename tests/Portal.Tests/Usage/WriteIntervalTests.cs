using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Usage;

/// <summary>
/// <c>Proxy:Usage:WriteInterval</c> is how long the usage writer gathers calls before it writes them: the time a call's
/// row takes to appear, and what a <c>kill -9</c> may lose (docs/usage.md).
/// </summary>
public sealed class WriteIntervalTests
{
    private static object Chat(string model) => new { model, messages = new[] { new { role = "user", content = "hi" } } };

    [Fact]
    [Trait("Category", "Timing")]
    public async Task ACallsRow_AppearsAfterTheWriteInterval_NotBefore()
    {
        await using var upstream = new StandInUpstream();
        await using var gateway = new GatewayFactory { Settings = { ["Proxy:Usage:WriteInterval"] = "00:00:03" } };
        var team = await gateway.CreateTeamAsync();
        var key = await gateway.GenerateKeyAsync(team);
        (await gateway.Client(key).PostAsJsonAsync("/model/new", new
        {
            model_name = "m",
            litellm_params = new { model = "openai/gpt-4o", api_key = "sk-provider-interval-0001", api_base = upstream.ApiBase("ok", out _) },
            model_info = new { team_id = team },
        })).EnsureSuccessStatusCode();
        using var admin = gateway.Client();

        var clock = Stopwatch.StartNew();
        (await gateway.Client(key).PostAsJsonAsync("/v1/chat/completions", Chat("m"))).EnsureSuccessStatusCode();
        await Task.Delay(TimeSpan.FromSeconds(1));
        var early = await admin.GetFromJsonAsync<JsonArray>($"/spend/logs?team_id={team}");
        var earlyAt = clock.Elapsed;

        var rows = early!.Count;
        while (rows == 0 && clock.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(100);
            rows = (await admin.GetFromJsonAsync<JsonArray>($"/spend/logs?team_id={team}"))!.Count;
        }

        Assert.True(earlyAt < TimeSpan.FromSeconds(2.5), $"the first read came {earlyAt} after the call: too late to tell");
        Assert.Empty(early);
        Assert.Equal(1, rows);
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(2.5), TimeSpan.FromSeconds(10));
    }

    [Theory]
    [InlineData("00:00:00")]
    [InlineData("00:05:00")]
    public async Task AWriteIntervalOutOfRange_StopsStartUp_NamingTheSetting(string interval)
    {
        await using var gateway = new GatewayFactory { Settings = { ["Proxy:Usage:WriteInterval"] = interval } };

        var error = Assert.ThrowsAny<Exception>(() => gateway.BaseAddress);

        Assert.Contains("Proxy:Usage:WriteInterval", error.ToString());
    }
}
