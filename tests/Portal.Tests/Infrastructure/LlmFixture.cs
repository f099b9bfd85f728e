using System.Net.Http.Json;
using System.Net;
using System.Text.Json.Nodes;

namespace Portal.Tests.Infrastructure;

/// <summary>A gateway and a provider stand-in, shared by one test class.</summary>
public class LlmFixture : IAsyncLifetime
{
    public LlmFixture()
        : this(new GatewayFactory())
    {
    }

    protected LlmFixture(GatewayFactory gateway) => Gateway = gateway;

    public GatewayFactory Gateway { get; }
    public StandInUpstream Upstream { get; } = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await Gateway.DisposeAsync();
        await Upstream.DisposeAsync();
    }

    /// <summary>A team, its key, and a team model registered by that key against a stand-in scenario.</summary>
    public async Task<TeamSetup> TeamWithModelAsync(string scenario = "ok", string name = "my-team-model", string providerKey = "sk-provider-team-secret-ccb07", object? extraParams = null)
    {
        var team = await Gateway.CreateTeamAsync();
        var key = await Gateway.GenerateKeyAsync(team);
        var apiBase = Upstream.ApiBase(scenario, out var id);
        var litellmParams = JsonNode.Parse(System.Text.Json.JsonSerializer.Serialize(extraParams ?? new { }))!.AsObject();
        litellmParams["model"] = "openai/gpt-4o";
        litellmParams["api_key"] = providerKey;
        litellmParams["api_base"] = apiBase;
        var model = await (await Gateway.Client(key).PostAsJsonAsync("/model/new", new
        {
            model_name = name,
            litellm_params = litellmParams,
            model_info = new { team_id = team },
        })).ReadJsonAsync(HttpStatusCode.OK);
        return new TeamSetup(team, key, id, model["model_id"]!.GetValue<string>(), providerKey);
    }
}

public sealed record TeamSetup(string TeamId, string Key, string UpstreamId, string ModelId, string ProviderKey);
