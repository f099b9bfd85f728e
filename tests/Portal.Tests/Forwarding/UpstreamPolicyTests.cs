using System.Net;
using System.Net.Http.Json;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Forwarding;

/// <summary>Where api_base may point (server-side request forgery): metadata and link-local never, this gateway never, more by configuration.</summary>
public sealed class UpstreamPolicyTests
{
    private static object Model(string team, string apiBase) => new
    {
        model_name = "ssrf-model",
        litellm_params = new { model = "openai/gpt-4o", api_base = apiBase, api_key = "sk-provider-ssrf-check-0000" },
        model_info = new { team_id = team },
    };

    [Theory]
    [InlineData("http://169.254.169.254/latest/meta-data")]
    [InlineData("http://[fe80::1]/v1")]
    [InlineData("http://0.0.0.0:8080/v1")]
    [InlineData("http://100.100.100.200/v1")]
    [InlineData("http://[::ffff:169.254.169.254]/v1")]
    public async Task MetadataAndLinkLocalAddresses_AreRefusedAtRegistration(string apiBase)
    {
        await using var gateway = new GatewayFactory();
        var team = await gateway.CreateTeamAsync();
        var before = await gateway.DumpAsync();

        var response = await gateway.Client().PostAsJsonAsync("/model/new", Model(team, apiBase));

        Assert.Contains("Proxy:Upstreams:DeniedNetworks", await response.ReadErrorAsync(HttpStatusCode.BadRequest));
        Assert.Equal(before, await gateway.DumpAsync());
    }

    [Fact]
    public async Task TheGatewayItself_IsRefusedAtRegistration()
    {
        await using var gateway = new GatewayFactory();
        var team = await gateway.CreateTeamAsync();

        var response = await gateway.Client().PostAsJsonAsync("/model/new", Model(team, $"http://localhost:{gateway.BaseAddress.Port}/v1"));

        Assert.Contains("this gateway itself", await response.ReadErrorAsync(HttpStatusCode.BadRequest));
    }

    [Fact]
    public async Task ANameThatResolvesIntoADeniedNetwork_IsRefusedWhenConnecting_AndNothingIsSent()
    {
        await using var upstream = new StandInUpstream();
        await using var gateway = new GatewayFactory { Settings = { ["Proxy:Upstreams:DeniedNetworks:0"] = "127.0.0.0/8", ["Proxy:Upstreams:DeniedNetworks:1"] = "::1/128" } };
        var team = await gateway.CreateTeamAsync();
        var key = await gateway.GenerateKeyAsync(team);
        var apiBase = upstream.ApiBase("ok", out var id).Replace("127.0.0.1", "localhost");
        (await gateway.Client(key).PostAsJsonAsync("/model/new", Model(team, apiBase))).EnsureSuccessStatusCode();

        var response = await gateway.Client(key).PostAsJsonAsync("/v1/chat/completions", new { model = "ssrf-model", messages = Array.Empty<object>() });

        Assert.Contains("denied", await response.ReadErrorAsync(HttpStatusCode.BadGateway, "upstream_error"));
        Assert.Empty(upstream.ReceivedBy(id));
    }

    [Fact]
    public async Task LoopbackAndPrivateUpstreams_AreAllowedByDefault_ForTeamsOwnModelServers()
    {
        await using var upstream = new StandInUpstream();
        await using var gateway = new GatewayFactory();
        var team = await gateway.CreateTeamAsync();
        var key = await gateway.GenerateKeyAsync(team);
        (await gateway.Client(key).PostAsJsonAsync("/model/new", Model(team, upstream.ApiBase("ok", out var id)))).EnsureSuccessStatusCode();

        var response = await gateway.Client(key).PostAsJsonAsync("/v1/chat/completions", new { model = "ssrf-model", messages = Array.Empty<object>() });

        await response.ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal("1", Assert.Single(upstream.ReceivedBy(id)).Header("x-llm-gateway-hops"));
    }

    [Fact]
    public async Task ACallThatKeepsComingBack_EndsWith508()
    {
        await using var gateway = new GatewayFactory();
        var key = await gateway.GenerateKeyAsync(await gateway.CreateTeamAsync());
        var client = gateway.Client(key);
        client.DefaultRequestHeaders.Add("x-llm-gateway-hops", "5");

        var response = await client.PostAsJsonAsync("/v1/chat/completions", new { model = "anything", messages = Array.Empty<object>() });

        Assert.Contains("api_base", await response.ReadErrorAsync((HttpStatusCode)508, "upstream_error"));
    }
}
