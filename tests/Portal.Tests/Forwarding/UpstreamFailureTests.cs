using System.Net;
using System.Net.Http.Json;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Forwarding;

/// <summary>When the provider fails, the caller gets the provider's own error or a clear 502/504, and the gateway keeps serving.</summary>
public sealed class UpstreamFailureTests(LlmFixture fixture) : IClassFixture<LlmFixture>
{
    private GatewayFactory Gateway => fixture.Gateway;

    private static object Chat(string model, bool stream = false) => new { model, stream, messages = new[] { new { role = "user", content = "hi" } } };

    private async Task<TeamSetup> TeamModelAtAsync(string apiBase, object? extra = null)
    {
        var team = await Gateway.CreateTeamAsync();
        var key = await Gateway.GenerateKeyAsync(team);
        var json = await (await Gateway.Client(key).PostAsJsonAsync("/model/new", new
        {
            model_name = "fragile-model",
            litellm_params = extra is null
                ? (object)new { model = "openai/gpt-4o", api_base = apiBase, api_key = "sk-provider-fragile-key-9999" }
                : new { model = "openai/gpt-4o", api_base = apiBase, api_key = "sk-provider-fragile-key-9999", timeout = 1 },
            model_info = new { team_id = team },
        })).ReadJsonAsync(HttpStatusCode.OK);
        return new TeamSetup(team, key, "", json["model_id"]!.GetValue<string>(), "sk-provider-fragile-key-9999");
    }

    private async Task AssertStillServingAsync()
    {
        var healthy = await fixture.TeamWithModelAsync(name: "healthy-model");
        await (await Gateway.Client(healthy.Key).PostAsJsonAsync("/v1/chat/completions", Chat("healthy-model"))).ReadJsonAsync(HttpStatusCode.OK);
    }

    [Fact]
    public async Task ConnectionRefused_Is502UpstreamError_NamingTheModelNotTheKey()
    {
        var port = Loopback.FreePort();
        var setup = await TeamModelAtAsync($"http://127.0.0.1:{port}/v1");

        var response = await Gateway.Client(setup.Key).PostAsJsonAsync("/v1/chat/completions", Chat("fragile-model"));

        var message = await response.ReadErrorAsync(HttpStatusCode.BadGateway, "upstream_error");
        Assert.Contains("fragile-model", message);
        Assert.DoesNotContain(setup.ProviderKey, message);
        Assert.DoesNotContain(setup.Key, message);
        await AssertStillServingAsync();
    }

    [Fact]
    public async Task DnsFailure_Is502UpstreamError()
    {
        var setup = await TeamModelAtAsync("http://no-such-host.invalid/v1");

        var response = await Gateway.Client(setup.Key).PostAsJsonAsync("/v1/chat/completions", Chat("fragile-model"));

        Assert.Contains("fragile-model", await response.ReadErrorAsync(HttpStatusCode.BadGateway, "upstream_error"));
    }

    [Fact]
    public async Task Timeout_FromLitellmParams_Is504_AndCancelsTheUpstream()
    {
        var apiBase = fixture.Upstream.ApiBase("slow", out var id);
        var setup = await TeamModelAtAsync(apiBase, extra: new { timeout = 1 });

        var response = await Gateway.Client(setup.Key).PostAsJsonAsync("/v1/chat/completions", Chat("fragile-model"));

        Assert.Contains("did not answer within 1 seconds", await response.ReadErrorAsync(HttpStatusCode.GatewayTimeout, "upstream_error"));
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (!fixture.Upstream.Cancelled.ContainsKey(id) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }
        Assert.True(fixture.Upstream.Cancelled.ContainsKey(id));
        await AssertStillServingAsync();
    }

    [Fact]
    public async Task ProviderError_KeepsItsStatusAndBody()
    {
        var setup = await fixture.TeamWithModelAsync("error429", name: "limited-model");

        var response = await Gateway.Client(setup.Key).PostAsJsonAsync("/v1/chat/completions", Chat("limited-model"));

        var json = await response.ReadJsonAsync(HttpStatusCode.TooManyRequests);
        Assert.Equal("Rate limit reached for gpt-4o (provider side).", json["error"]!["message"]!.GetValue<string>());
        Assert.Equal("rate_limit_exceeded", json["error"]!["code"]!.GetValue<string>());
    }

    [Fact]
    public async Task ResetMidStream_EndsTheClientsStream_AndTheGatewayStaysHealthy()
    {
        var setup = await fixture.TeamWithModelAsync("reset", name: "resetting-model");
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = JsonContent.Create(Chat("resetting-model", stream: true)) };

        using var response = await Gateway.Client(setup.Key).SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var stream = new StreamReader(await response.Content.ReadAsStreamAsync());
        Assert.Contains("Sunny", await stream.ReadLineAsync());
        fixture.Upstream.Release(setup.UpstreamId);
        var read = async () => await stream.ReadToEndAsync();

        // The client sees the stream break (never a silently "complete" answer missing its end).
        var outcome = await Record.ExceptionAsync(read);
        Assert.True(outcome is not null, "the broken stream ended as if complete");
        await AssertStillServingAsync();
    }

    [Fact]
    public async Task GarbageFromProvider_IsPassedThrough_WithoutCrashingUsageMetering()
    {
        var setup = await fixture.TeamWithModelAsync("garbage", name: "garbage-model");

        var response = await Gateway.Client(setup.Key).PostAsJsonAsync("/v1/chat/completions", Chat("garbage-model"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("<html>definitely not json", await response.Content.ReadAsStringAsync());
        await AssertStillServingAsync();
    }
}
