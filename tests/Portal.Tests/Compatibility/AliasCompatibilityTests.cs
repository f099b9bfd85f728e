using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Compatibility;

/// <summary>
/// LiteLLM's team <c>model_aliases</c> and key <c>aliases</c> (docs/api.md sections 3 and 5): stored, shown, resolved on
/// LLM calls (team first, then key, no chaining), and never a way around the rule book.
/// </summary>
public sealed class AliasCompatibilityTests(LlmFixture fixture) : IClassFixture<LlmFixture>
{
    private GatewayFactory Gateway => fixture.Gateway;

    private static object Chat(string model) => new { model, messages = new[] { new { role = "user", content = "hi" } } };

    private static string Suffix() => Guid.NewGuid().ToString("N")[..8];

    /// <summary>A global model on the stand-in; its upstream name differs from its public one.</summary>
    private async Task<string> GlobalModelAsync(string name, string upstream = "gpt-3.5-turbo-0125")
    {
        (await Gateway.Client().PostAsJsonAsync("/model/new", new
        {
            model_name = name,
            litellm_params = new { model = $"openai/{upstream}", api_key = "sk-provider-global-0001", api_base = fixture.Upstream.ApiBase("ok", out var id) },
        })).EnsureSuccessStatusCode();
        return id;
    }

    private async Task<JsonObject> TeamInfoAsync(string teamId) =>
        (await (await Gateway.Client().GetAsync($"/team/info?team_id={teamId}")).ReadJsonAsync(HttpStatusCode.OK))["team_info"]!.AsObject();

    private static JsonObject ModelTable(JsonObject team) => team["litellm_model_table"]!["model_aliases"]!.AsObject();

    [Fact]
    public async Task TestTeamAlias_Replayed_CheapModelReachesTheGlobalModel_AndTheProviderGetsItsUpstreamName()
    {
        // LiteLLM's tests/test_team.py::test_team_alias, with a stand-in provider in place of OpenAI.
        var upstream = await GlobalModelAsync("gpt-3.5-turbo");
        var created = await (await Gateway.Client().PostAsJsonAsync("/team/new", new { model_aliases = new Dictionary<string, string> { ["cheap-model"] = "gpt-3.5-turbo" } }))
            .ReadJsonAsync(HttpStatusCode.OK);
        var teamId = created["team_id"]!.GetValue<string>();
        Assert.Equal("gpt-3.5-turbo", ModelTable(created.AsObject())["cheap-model"]!.GetValue<string>());
        var key = await Gateway.GenerateKeyAsync(teamId, new { models = new[] { "gpt-3.5-turbo" } });

        var response = await Gateway.Client(key).PostAsJsonAsync("/v1/chat/completions", Chat("cheap-model"));

        await response.ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal("gpt-3.5-turbo-0125", Assert.Single(fixture.Upstream.ReceivedBy(upstream)).Json["model"]!.GetValue<string>());
        Assert.Equal("gpt-3.5-turbo", ModelTable(await TeamInfoAsync(teamId))["cheap-model"]!.GetValue<string>());
        // The usage row names the model the alias resolved to, as LiteLLM's model_group does.
        var log = await Gateway.SingleSpendLogAsync(teamId);
        Assert.Equal("gpt-3.5-turbo", log["model"]!.GetValue<string>());
        // /v1/models lists model groups, not alias names (as LiteLLM).
        var listed = (await (await Gateway.Client(key).GetAsync("/v1/models")).ReadJsonAsync(HttpStatusCode.OK))["data"]!.AsArray().Select(m => m!["id"]!.GetValue<string>());
        Assert.DoesNotContain("cheap-model", listed);
    }

    [Fact]
    public async Task TeamAlias_ToTheTeamsOwnModel_GoesToItsEndpointWithItsKey_AndShowsBesideTheTeamModels()
    {
        var setup = await fixture.TeamWithModelAsync(name: "own-model");
        // A plain team key is not a team admin: the proxy admin (or a team admin) sets the aliases.
        await (await Gateway.Client(setup.Key).PostAsJsonAsync("/team/update", new { team_id = setup.TeamId, model_aliases = new { shorty = "own-model" } }))
            .ReadErrorAsync(HttpStatusCode.Forbidden);
        var answer = await (await Gateway.Client().PostAsJsonAsync("/team/update", new { team_id = setup.TeamId, model_aliases = new { shorty = "own-model" } }))
            .ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal("own-model", ModelTable(answer["data"]!.AsObject())["shorty"]!.GetValue<string>());

        var response = await Gateway.Client(setup.Key).PostAsJsonAsync("/v1/chat/completions", Chat("shorty"));

        await response.ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal(setup.ModelId, response.Headers.GetValues("x-litellm-model-id").Single());
        var received = Assert.Single(fixture.Upstream.ReceivedBy(setup.UpstreamId));
        Assert.Equal($"Bearer {setup.ProviderKey}", received.Header("Authorization"));
        var table = ModelTable(await TeamInfoAsync(setup.TeamId));
        Assert.StartsWith($"model_name_{setup.TeamId}_", table["own-model"]!.GetValue<string>());
        Assert.Equal("own-model", table["shorty"]!.GetValue<string>());
        var listed = (await Gateway.Client().GetFromJsonAsync<List<JsonObject>>("/team/list"))!.Single(t => t["team_id"]!.GetValue<string>() == setup.TeamId);
        Assert.Equal("own-model", ModelTable(listed)["shorty"]!.GetValue<string>());

        // An alias may not hide the team's own model name, and a team model may not take an alias's name.
        var hiding = await (await Gateway.Client().PostAsJsonAsync("/team/update", new { team_id = setup.TeamId, model_aliases = new Dictionary<string, string> { ["own-model"] = "shorty" } }))
            .ReadErrorAsync(HttpStatusCode.BadRequest, "invalid_request_error");
        Assert.Contains("own-model", hiding);
        await (await Gateway.Client().PostAsJsonAsync("/model/new", GatewayFactory.TeamModel(setup.TeamId, name: "shorty"))).ReadErrorAsync(HttpStatusCode.BadRequest);

        // The map is replaced as a whole; the change is in the team's audit log.
        await (await Gateway.Client().PostAsJsonAsync("/team/update", new { team_id = setup.TeamId, model_aliases = new { } })).ReadJsonAsync(HttpStatusCode.OK);
        Assert.Null(ModelTable(await TeamInfoAsync(setup.TeamId))["shorty"]);
        await (await Gateway.Client(setup.Key).PostAsJsonAsync("/v1/chat/completions", Chat("shorty"))).ReadErrorAsync(HttpStatusCode.BadRequest);
        var audit = (await (await Gateway.Client().GetAsync($"/audit?team_id={setup.TeamId}")).ReadJsonAsync(HttpStatusCode.OK))["data"]!.AsArray();
        Assert.Contains(audit, e => e!["action"]!.GetValue<string>() == "team.update" && e["details"]?["model_aliases"]?["shorty"]?.GetValue<string>() == "own-model");
    }

    [Fact]
    public async Task KeyAlias_AppliesAfterTheTeamAlias_WithoutChaining_AndIsShownAndKept()
    {
        var (first, second) = ($"first-{Suffix()}", $"second-{Suffix()}");
        var firstUpstream = await GlobalModelAsync(first, "upstream-first");
        var secondUpstream = await GlobalModelAsync(second, "upstream-second");
        var teamId = await Gateway.CreateTeamAsync();
        (await Gateway.Client().PostAsJsonAsync("/team/update", new { team_id = teamId, model_aliases = new Dictionary<string, string> { ["nick"] = first } })).EnsureSuccessStatusCode();
        var issued = await (await Gateway.Client().PostAsJsonAsync("/key/generate", new { team_id = teamId, aliases = new Dictionary<string, string> { [first] = second, ["mine"] = first } }))
            .ReadJsonAsync(HttpStatusCode.OK);
        var key = issued["key"]!.GetValue<string>();
        Assert.Equal(second, issued["aliases"]![first]!.GetValue<string>());

        // nick → first (team) → second (key); mine → first, not chained on to second.
        await (await Gateway.Client(key).PostAsJsonAsync("/v1/chat/completions", Chat("nick"))).ReadJsonAsync(HttpStatusCode.OK);
        await (await Gateway.Client(key).PostAsJsonAsync("/v1/chat/completions", Chat("mine"))).ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal("upstream-second", Assert.Single(fixture.Upstream.ReceivedBy(secondUpstream)).Json["model"]!.GetValue<string>());
        Assert.Equal("upstream-first", Assert.Single(fixture.Upstream.ReceivedBy(firstUpstream)).Json["model"]!.GetValue<string>());

        var info = (await (await Gateway.Client().GetAsync($"/key/info?key={key}")).ReadJsonAsync(HttpStatusCode.OK))["info"]!;
        Assert.Equal(first, info["aliases"]!["mine"]!.GetValue<string>());
        var listed = (await (await Gateway.Client().GetAsync($"/key/list?team_id={teamId}")).ReadJsonAsync(HttpStatusCode.OK))["keys"]!.AsArray();
        Assert.Equal(first, Assert.Single(listed)!["aliases"]!["mine"]!.GetValue<string>());

        // Regenerating keeps them; an update replaces them as a whole.
        var fresh = (await (await Gateway.Client().PostAsJsonAsync("/key/regenerate", new { key })).ReadJsonAsync(HttpStatusCode.OK))["key"]!.GetValue<string>();
        await (await Gateway.Client(fresh).PostAsJsonAsync("/v1/chat/completions", Chat("mine"))).ReadJsonAsync(HttpStatusCode.OK);
        var updated = await (await Gateway.Client().PostAsJsonAsync("/key/update", new { key = fresh, aliases = new { } })).ReadJsonAsync(HttpStatusCode.OK);
        Assert.Empty(updated["aliases"]!.AsObject());
        await (await Gateway.Client(fresh).PostAsJsonAsync("/v1/chat/completions", Chat("mine"))).ReadErrorAsync(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task AliasToAnotherTeamsModel_IsStored_ButACallGetsTheMissingModel400_AndNeverReachesIt()
    {
        var other = await fixture.TeamWithModelAsync(name: "their-model");
        var internalName = ModelTable(await TeamInfoAsync(other.TeamId))["their-model"]!.GetValue<string>();
        var mine = await Gateway.CreateTeamAsync();
        var myKey = await Gateway.GenerateKeyAsync(mine);
        var expected = await (await Gateway.Client(myKey).PostAsJsonAsync("/v1/chat/completions", Chat("no-such-model"))).ReadErrorAsync(HttpStatusCode.BadRequest);

        // Targets are checked when a call uses them (LiteLLM's scripts alias models a key lists later), so the write
        // answers the same for another team's model as for one that does not exist: it reveals nothing.
        foreach (var target in new[] { "no-such-model-anywhere", "their-model", internalName })
        {
            (await Gateway.Client().PostAsJsonAsync("/team/update", new { team_id = mine, model_aliases = new { steal = target } })).EnsureSuccessStatusCode();
            var refused = await (await Gateway.Client(myKey).PostAsJsonAsync("/v1/chat/completions", Chat("steal"))).ReadErrorAsync(HttpStatusCode.BadRequest, "invalid_request_error");
            Assert.Equal(expected.Replace("no-such-model", "steal"), refused);
        }
        (await Gateway.Client().PostAsJsonAsync("/team/update", new { team_id = mine, model_aliases = new { } })).EnsureSuccessStatusCode();
        foreach (var target in new[] { "their-model", internalName })
        {
            (await Gateway.Client().PostAsJsonAsync("/key/update", new { key = myKey, aliases = new { steal = target } })).EnsureSuccessStatusCode();
            var refused = await (await Gateway.Client(myKey).PostAsJsonAsync("/v1/chat/completions", Chat("steal"))).ReadErrorAsync(HttpStatusCode.BadRequest, "invalid_request_error");
            Assert.Equal(expected.Replace("no-such-model", "steal"), refused);
        }
        Assert.Empty(fixture.Upstream.ReceivedBy(other.UpstreamId));
    }

    [Fact]
    public async Task AliasTarget_OutsideTheKeysModels_OrDeletedLater_GetsTheInvalidModel400()
    {
        var (allowed, narrow) = ($"allowed-{Suffix()}", $"narrow-{Suffix()}");
        var upstream = await GlobalModelAsync(allowed);
        await GlobalModelAsync(narrow);
        var setup = await fixture.TeamWithModelAsync(name: "short-lived");
        (await Gateway.Client().PostAsJsonAsync("/team/update", new
        {
            team_id = setup.TeamId,
            models = new[] { "short-lived", allowed, narrow },
            model_aliases = new Dictionary<string, string> { ["gone"] = "short-lived", ["wide"] = narrow },
        })).EnsureSuccessStatusCode();
        var narrowKey = await Gateway.GenerateKeyAsync(setup.TeamId, new { models = new[] { allowed } });
        var expected = await (await Gateway.Client(narrowKey).PostAsJsonAsync("/v1/chat/completions", Chat("no-such-model"))).ReadErrorAsync(HttpStatusCode.BadRequest);

        // The team may call the target; this key's own models list may not: the alias does not widen it.
        var wide = await (await Gateway.Client(narrowKey).PostAsJsonAsync("/v1/chat/completions", Chat("wide"))).ReadErrorAsync(HttpStatusCode.BadRequest, "invalid_request_error");
        Assert.Equal(expected.Replace("no-such-model", "wide"), wide);
        // Nor does a key alias to a model outside the key's models list: stored, and refused when called.
        (await Gateway.Client().PostAsJsonAsync("/key/update", new { key = narrowKey, aliases = new { mine = narrow } })).EnsureSuccessStatusCode();
        var viaKeyAlias = await (await Gateway.Client(narrowKey).PostAsJsonAsync("/v1/chat/completions", Chat("mine"))).ReadErrorAsync(HttpStatusCode.BadRequest, "invalid_request_error");
        Assert.Equal(expected.Replace("no-such-model", "mine"), viaKeyAlias);

        await (await Gateway.Client(setup.Key).PostAsJsonAsync("/v1/chat/completions", Chat("gone"))).ReadJsonAsync(HttpStatusCode.OK);
        (await Gateway.Client().PostAsJsonAsync("/model/delete", new { id = setup.ModelId })).EnsureSuccessStatusCode();

        var deleted = await (await Gateway.Client(setup.Key).PostAsJsonAsync("/v1/chat/completions", Chat("gone"))).ReadErrorAsync(HttpStatusCode.BadRequest, "invalid_request_error");
        Assert.Equal(expected.Replace("no-such-model", "gone"), deleted);
        Assert.Empty(fixture.Upstream.ReceivedBy(upstream));
    }
}
