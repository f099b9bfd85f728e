using System.Net;
using System.Net.Http.Json;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Access;

/// <summary>A team's models are its own: another team's key can neither change nor see them.</summary>
[Trait("Category", "Database")]
public sealed class TeamScopingTests(GatewayFactory gateway) : IClassFixture<GatewayFactory>
{
    [Fact]
    public async Task OtherTeamsKey_Gets403AddingAModelToTeamA_NamingBothTeams()
    {
        var teamA = await gateway.CreateTeamAsync("a");
        var teamB = await gateway.CreateTeamAsync("b");
        var keyB = await gateway.GenerateKeyAsync(teamB);
        var before = await gateway.DumpAsync();

        var response = await gateway.Client(keyB).PostAsJsonAsync("/model/new", GatewayFactory.TeamModel(teamA));

        var message = await response.ReadErrorAsync(HttpStatusCode.Forbidden, "permission_error");
        Assert.Contains(teamA, message);
        Assert.Contains(teamB, message);
        Assert.Equal(before, await gateway.DumpAsync());
    }

    [Fact]
    public async Task OtherTeamsKey_CannotSeeTeamAsModels()
    {
        var teamA = await gateway.CreateTeamAsync("a");
        var keyA = await gateway.GenerateKeyAsync(teamA);
        var model = await gateway.AddTeamModelAsync(keyA, teamA, "a-private-model");
        var internalName = model["model_name"]!.GetValue<string>();
        var teamB = await gateway.CreateTeamAsync("b");
        var keyB = await gateway.GenerateKeyAsync(teamB);

        var info = await gateway.Client(keyB).GetStringAsync("/model/info");
        var list = await gateway.Client(keyB).GetStringAsync("/v1/models");
        var v2 = await gateway.Client(keyB).GetStringAsync("/v2/model/info");

        foreach (var body in new[] { info, list, v2 })
        {
            Assert.DoesNotContain("a-private-model", body);
            Assert.DoesNotContain(internalName, body);
        }
        // Team A's own key does see it: the filter is by team, not a blanket hide.
        Assert.Contains("a-private-model", await gateway.Client(keyA).GetStringAsync("/v1/models"));
        Assert.Contains(internalName, await gateway.Client(keyA).GetStringAsync("/model/info"));
        // /v1/models never shows internal names, even to the owner.
        Assert.DoesNotContain(internalName, await gateway.Client(keyA).GetStringAsync("/v1/models"));
    }

    [Fact]
    public async Task OtherTeamsKey_CannotReadTeamInfo()
    {
        var teamA = await gateway.CreateTeamAsync("a");
        var keyB = await gateway.GenerateKeyAsync(await gateway.CreateTeamAsync("b"));

        var response = await gateway.Client(keyB).GetAsync($"/team/info?team_id={teamA}");

        await response.ReadErrorAsync(HttpStatusCode.Forbidden, "permission_error");
    }

    [Fact]
    public async Task OtherTeamsKey_CannotUpdateOrDeleteTeamAsModel_404()
    {
        var teamA = await gateway.CreateTeamAsync("a");
        var keyA = await gateway.GenerateKeyAsync(teamA);
        var id = (await gateway.AddTeamModelAsync(keyA, teamA, "a-model"))["model_id"]!.GetValue<string>();
        var keyB = await gateway.GenerateKeyAsync(await gateway.CreateTeamAsync("b"));
        var before = await gateway.DumpAsync();

        var update = await gateway.Client(keyB).PostAsJsonAsync("/model/update", new { model_info = new { id }, litellm_params = new { api_base = "https://evil.example.com" } });
        var delete = await gateway.Client(keyB).PostAsJsonAsync("/model/delete", new { id });

        await update.ReadErrorAsync(HttpStatusCode.NotFound, "not_found_error");
        await delete.ReadErrorAsync(HttpStatusCode.NotFound, "not_found_error");
        Assert.Equal(before, await gateway.DumpAsync());
    }

    [Fact]
    public async Task LlmApiKey_IsForLlmRoutesOnly_ButListsItsModels()
    {
        var team = await gateway.CreateTeamAsync();
        var llmKey = await gateway.GenerateKeyAsync(team, new { key_type = "llm_api" });

        var add = await gateway.Client(llmKey).PostAsJsonAsync("/model/new", GatewayFactory.TeamModel(team));
        var info = await gateway.Client(llmKey).GetAsync($"/team/info?team_id={team}");

        Assert.Contains("llm_api", await add.ReadErrorAsync(HttpStatusCode.Forbidden, "permission_error"));
        Assert.Contains("llm_api", await info.ReadErrorAsync(HttpStatusCode.Forbidden, "permission_error"));
        await (await gateway.Client(llmKey).GetAsync("/v1/models")).ReadJsonAsync(HttpStatusCode.OK);
        await (await gateway.Client(llmKey).GetAsync("/model/info")).ReadJsonAsync(HttpStatusCode.OK);
    }

    [Fact]
    public async Task TeamKey_CannotAddGlobalModels_OrCreateTeams_OrGenerateKeys()
    {
        var team = await gateway.CreateTeamAsync();
        var key = await gateway.GenerateKeyAsync(team);
        var client = gateway.Client(key);

        var global = await client.PostAsJsonAsync("/model/new", new { model_name = "gpt-4o", litellm_params = new { model = "openai/gpt-4o", api_key = "sk-xxxxxxxxxxxxxxxx" } });
        var newTeam = await client.PostAsJsonAsync("/team/new", new { team_alias = "mine" });
        var newKey = await client.PostAsJsonAsync("/key/generate", new { team_id = team });

        await global.ReadErrorAsync(HttpStatusCode.Forbidden, "permission_error");
        await newTeam.ReadErrorAsync(HttpStatusCode.Forbidden, "permission_error");
        await newKey.ReadErrorAsync(HttpStatusCode.Forbidden, "permission_error");
    }

    [Fact]
    public async Task GlobalModels_AreVisibleToTeamKeys_OnlyWhereTheirModelsListsAllow()
    {
        var admin = gateway.Client();
        (await admin.PostAsJsonAsync("/model/new", new { model_name = "global-allowed", litellm_params = new { model = "openai/gpt-4o-mini", api_key = "sk-global-provider-key-1" } })).EnsureSuccessStatusCode();
        (await admin.PostAsJsonAsync("/model/new", new { model_name = "global-other", litellm_params = new { model = "openai/gpt-4o", api_key = "sk-global-provider-key-2" } })).EnsureSuccessStatusCode();
        var openTeam = await gateway.CreateTeamAsync("open");
        var restricted = (await (await admin.PostAsJsonAsync("/team/new", new { models = new[] { "global-allowed" } })).ReadJsonAsync(HttpStatusCode.OK))["team_id"]!.GetValue<string>();

        var openList = await gateway.Client(await gateway.GenerateKeyAsync(openTeam)).GetStringAsync("/v1/models");
        var restrictedList = await gateway.Client(await gateway.GenerateKeyAsync(restricted)).GetStringAsync("/v1/models");
        var keyLimited = await gateway.Client(await gateway.GenerateKeyAsync(openTeam, new { models = new[] { "global-other" } })).GetStringAsync("/v1/models");

        Assert.Contains("global-allowed", openList);
        Assert.Contains("global-other", openList);
        Assert.Contains("global-allowed", restrictedList);
        Assert.DoesNotContain("global-other", restrictedList);
        Assert.DoesNotContain("global-allowed", keyLimited);
        Assert.Contains("global-other", keyLimited);
    }
}
