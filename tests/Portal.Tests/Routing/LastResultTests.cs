using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Portal.Tests.Infrastructure;
using Proxy.Core.Access;
using Proxy.Core.Forwarding;
using Proxy.Core.Routing;

namespace Portal.Tests.Routing;

/// <summary>
/// Each deployment keeps how its last call and last connection test went on this instance, so the portal can say
/// "unreachable" or "failing" where a count of recent failures said "healthy".
/// </summary>
[Trait("Category", "Database")]
public sealed class LastResultTests(LlmFixture fixture) : IClassFixture<LlmFixture>
{
    /// <summary>Nothing listens on the discard port: the connection is refused.</summary>
    private const string Refusing = "http://127.0.0.1:9/v1";

    private GatewayFactory Gateway => fixture.Gateway;

    private DeploymentState StateOf(string modelId) => Gateway.Services.GetRequiredService<DeploymentStates>().For(modelId);

    [Fact]
    public async Task ACallThatFindsNoServer_IsUnreachable_WithTheReason()
    {
        var (key, modelId) = await DeployAsync("closed-port", Refusing);

        var response = await Call(key, "closed-port");

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        var last = StateOf(modelId).LastCall!;
        Assert.Equal(DeploymentOutcome.Unreachable, last.Outcome);
        Assert.Contains("refused", last.Error, StringComparison.OrdinalIgnoreCase);
        Assert.Same(last, StateOf(modelId).LastResult);
    }

    [Fact]
    public async Task AnErrorStatus_IsFailing_AndAnAnsweredCallAfterIt_IsAnswered()
    {
        var (key, modelId) = await DeployAsync("flaky", fixture.Upstream.ApiBase("error503", out _));

        await Call(key, "flaky");

        var failing = StateOf(modelId).LastCall!;
        Assert.Equal(DeploymentOutcome.Failing, failing.Outcome);
        Assert.Equal(503, failing.Status);

        // The same deployment pointed at a working provider: its next call replaces the failure.
        (await Gateway.Client().PostAsJsonAsync("/model/update", new JsonObject
        {
            ["model_info"] = new JsonObject { ["id"] = modelId },
            ["litellm_params"] = new JsonObject { ["api_base"] = fixture.Upstream.ApiBase("ok", out _) },
        })).EnsureSuccessStatusCode();
        await (await Call(key, "flaky")).ReadJsonAsync(HttpStatusCode.OK);

        Assert.Equal(DeploymentOutcome.Answered, StateOf(modelId).LastCall!.Outcome);
        Assert.True(StateOf(modelId).LastCall!.At >= failing.At);
    }

    [Fact]
    public async Task TestConnection_IsKeptAsTheLastTest()
    {
        var (_, modelId) = await DeployAsync("tested", Refusing);
        await using var scope = Gateway.Services.CreateAsyncScope();

        var test = await scope.ServiceProvider.GetRequiredService<ConnectionProbe>().TestAsync(Caller.MasterKey, modelId);

        Assert.False(test.Succeeded);
        var last = StateOf(modelId).LastTest!;
        Assert.Equal(DeploymentOutcome.Unreachable, last.Outcome);
        Assert.Null(StateOf(modelId).LastCall);
    }

    private async Task<(string Key, string ModelId)> DeployAsync(string name, string apiBase)
    {
        var team = await Gateway.CreateTeamAsync();
        var key = await Gateway.GenerateKeyAsync(team);
        var model = await (await Gateway.Client(key).PostAsJsonAsync("/model/new", new JsonObject
        {
            ["model_name"] = name,
            ["litellm_params"] = new JsonObject { ["model"] = "openai/gpt-4o", ["api_key"] = "sk-provider-last-result-0001", ["api_base"] = apiBase },
            ["model_info"] = new JsonObject { ["team_id"] = team },
        })).ReadJsonAsync(HttpStatusCode.OK);
        return (key, model["model_id"]!.GetValue<string>());
    }

    private Task<HttpResponseMessage> Call(string key, string model) =>
        Gateway.Client(key).PostAsJsonAsync("/v1/chat/completions", Spend.Spend.Chat(model));
}
