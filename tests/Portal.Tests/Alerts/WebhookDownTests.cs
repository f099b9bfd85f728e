using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using Portal.Tests.Infrastructure;
using Calls = Portal.Tests.Spend.Spend;

namespace Portal.Tests.Alerts;

/// <summary>An alert never delays or fails a call: with the webhook down, calls answer and the sender gives up after its tries.</summary>
[Trait("Category", "Database")]
public sealed class WebhookDownTests
{
    [Fact]
    public async Task AWebhookNobodyListensOn_LeavesCallsUnaffected_AndTheSenderGivesUpAfterItsBoundedRetries()
    {
        var port = UnusedPort();
        await using var upstream = new StandInUpstream();
        await using var gateway = new GatewayFactory
        {
            Settings =
            {
                ["Proxy:Alerts:WebhookUrl"] = $"http://127.0.0.1:{port}/services/T000/B000/down-secret-path",
                ["Proxy:Alerts:Secret"] = AlertFixture.Secret,
                ["Proxy:Alerts:Attempts"] = "3",
                ["Proxy:Alerts:RetryDelay"] = "00:00:00.050",
            },
        };
        var team = await gateway.CreateTeamAsync();
        var key = await gateway.GenerateKeyAsync(team, new { soft_budget = 0.01, max_budget = 10 });
        (await gateway.Client(key).PostAsJsonAsync("/model/new", new
        {
            model_name = "m",
            litellm_params = new { model = "openai/gpt-4o", api_key = "sk-provider-down-test-0001", api_base = upstream.ApiBase("ok", out _), input_cost_per_token = 0.001, output_cost_per_token = 0.002 },
            model_info = new { team_id = team },
        })).EnsureSuccessStatusCode();

        for (var i = 0; i < 3; i++)
        {
            await Calls.CallAsync(gateway, key, "m");
            await Calls.KeySpendAsync(gateway, key, (i + 1) * 0.025);
        }
        for (var i = 0; i < 5; i++)
        {
            var call = await gateway.Client(key).PostAsJsonAsync("/v1/chat/completions", Calls.Chat("m"));
            Assert.Equal(HttpStatusCode.OK, call.StatusCode);
        }

        var gaveUp = await WaitForLogAsync(gateway, "Gave up sending budget alert soft_budget_crossed");
        Assert.Contains($"to 127.0.0.1:{port} after 3 attempts", gaveUp);
        await Task.Delay(500);
        var logs = gateway.Logs.ToList();
        Assert.Equal(2, logs.Count(l => l.Contains("Budget alert soft_budget_crossed to", StringComparison.Ordinal) && l.Contains("retrying", StringComparison.Ordinal)));
        Assert.Single(logs, l => l.Contains("Gave up sending budget alert", StringComparison.Ordinal));
        Assert.DoesNotContain(logs, l => l.Contains("down-secret-path", StringComparison.Ordinal) || l.Contains(key, StringComparison.Ordinal)
            || l.Contains(AlertFixture.Secret, StringComparison.Ordinal));
    }

    private static int UnusedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task<string> WaitForLogAsync(GatewayFactory gateway, string text)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (true)
        {
            if (gateway.Logs.FirstOrDefault(l => l.Contains(text, StringComparison.Ordinal)) is { } line)
            {
                return line;
            }
            Assert.True(DateTime.UtcNow < deadline, $"No log line with '{text}' within 15 s.");
            await Task.Delay(50);
        }
    }
}
