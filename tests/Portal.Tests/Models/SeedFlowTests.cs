using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.RegularExpressions;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Models;

/// <summary>The feature page's flow, verbatim: master key → team → team key → the team key registers its own model.</summary>
[Trait("Category", "Database")]
public sealed class SeedFlowTests(GatewayFactory gateway) : IClassFixture<GatewayFactory>
{
    private const string SeedTeamId = "e59e2671-a064-436a-a0fa-16ae96e5a0a1";

    [Fact]
    public async Task TeamKey_RegistersModel_AndTeamInfoShowsItsAlias()
    {
        var created = await gateway.Client().PostAsJsonAsync("/team/new", new { team_id = SeedTeamId, team_alias = "sweden" });
        Assert.Equal(SeedTeamId, (await created.ReadJsonAsync(HttpStatusCode.OK))["team_id"]!.GetValue<string>());
        var teamKey = await gateway.GenerateKeyAsync(SeedTeamId);

        var model = await gateway.AddTeamModelAsync(teamKey, SeedTeamId);

        var internalName = model["model_name"]!.GetValue<string>();
        Assert.Matches(new Regex($"^model_name_{SeedTeamId}_[0-9a-f]{{8}}-[0-9a-f]{{4}}-[0-9a-f]{{4}}-[0-9a-f]{{4}}-[0-9a-f]{{12}}$"), internalName);
        Assert.Equal("my-team-model", model["model_info"]!["team_public_model_name"]!.GetValue<string>());
        Assert.Equal(SeedTeamId, model["model_info"]!["team_id"]!.GetValue<string>());
        Assert.Equal("****cb07", model["litellm_params"]!["api_key"]!.GetValue<string>());

        var info = await (await gateway.Client(teamKey).GetAsync($"/team/info?team_id={SeedTeamId}")).ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal(SeedTeamId, info["team_id"]!.GetValue<string>());
        var table = info["team_info"]!["litellm_model_table"]!;
        Assert.Equal(internalName, table["model_aliases"]!["my-team-model"]!.GetValue<string>());
        Assert.Contains("my-team-model", info["team_info"]!["models"]!.AsArray().Select(m => m!.GetValue<string>()));

        // Without team_id, a team key reads its own team.
        var own = await (await gateway.Client(teamKey).GetAsync("/team/info")).ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal(SeedTeamId, own["team_id"]!.GetValue<string>());
    }

    [Fact]
    public async Task SecondRegistrationOfSamePublicName_JoinsTheSameInternalGroup()
    {
        var team = await gateway.CreateTeamAsync();
        var key = await gateway.GenerateKeyAsync(team);
        var first = await gateway.AddTeamModelAsync(key, team, "shared-name");
        var second = await gateway.AddTeamModelAsync(key, team, "shared-name", apiBase: "https://second.example.com/v1");

        Assert.Equal(first["model_name"]!.GetValue<string>(), second["model_name"]!.GetValue<string>());
        Assert.NotEqual(first["model_id"]!.GetValue<string>(), second["model_id"]!.GetValue<string>());

        // Deleting one deployment keeps the alias; deleting the last removes it and the team's models entry.
        (await gateway.Client(key).PostAsJsonAsync("/model/delete", new { id = first["model_id"]!.GetValue<string>() })).EnsureSuccessStatusCode();
        var afterOne = await (await gateway.Client(key).GetAsync($"/team/info?team_id={team}")).ReadJsonAsync(HttpStatusCode.OK);
        Assert.NotNull(afterOne["team_info"]!["litellm_model_table"]!["model_aliases"]!["shared-name"]);

        (await gateway.Client(key).PostAsJsonAsync("/model/delete", new { id = second["model_id"]!.GetValue<string>() })).EnsureSuccessStatusCode();
        var afterAll = await (await gateway.Client(key).GetAsync($"/team/info?team_id={team}")).ReadJsonAsync(HttpStatusCode.OK);
        Assert.Null(afterAll["team_info"]!["litellm_model_table"]!["model_aliases"]!["shared-name"]);
        Assert.DoesNotContain("shared-name", afterAll["team_info"]!["models"]!.AsArray().Select(m => m!.GetValue<string>()));
    }

    [Fact]
    public async Task ModelUpdate_AbsentKeyKeepsStoredKey_NewKeyReplacesIt()
    {
        var team = await gateway.CreateTeamAsync();
        var key = await gateway.GenerateKeyAsync(team);
        var model = await gateway.AddTeamModelAsync(key, team, "updatable", apiKey: "sk-provider-original-1111");
        var id = model["model_id"]!.GetValue<string>();

        var kept = await (await gateway.Client(key).PostAsJsonAsync("/model/update", new
        {
            model_info = new { id },
            litellm_params = new { api_base = "https://moved.example.com/v1" },
        })).ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal("****1111", kept["litellm_params"]!["api_key"]!.GetValue<string>());
        Assert.Equal("https://moved.example.com/v1", kept["litellm_params"]!["api_base"]!.GetValue<string>());

        var patch = new HttpRequestMessage(HttpMethod.Patch, $"/model/{id}/update")
        {
            Content = JsonContent.Create(new { litellm_params = new { api_key = "sk-provider-replacement-2222" } }),
        };
        var replaced = await (await gateway.Client(key).SendAsync(patch)).ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal("****2222", replaced["litellm_params"]!["api_key"]!.GetValue<string>());
        Assert.Equal("https://moved.example.com/v1", replaced["litellm_params"]!["api_base"]!.GetValue<string>());
    }
}

/// <summary>Reads the SQLite file's bytes, so it runs on SQLite only.</summary>
public sealed class SecretsAtRestTests(GatewayFactory gateway) : IClassFixture<GatewayFactory>
{
    [Fact]
    public async Task SecretsAtRest_ProviderKeyAndVirtualKeyAreNotInTheDatabaseFile()
    {
        const string providerKey = "sk-provider-at-rest-check-9f8e7d6c5b4a";
        var team = await gateway.CreateTeamAsync();
        var key = await gateway.GenerateKeyAsync(team);
        await gateway.AddTeamModelAsync(key, team, "at-rest", apiKey: providerKey);

        var bytes = new List<byte>();
        foreach (var suffix in new[] { "", "-wal" })
        {
            if (File.Exists(gateway.DatabaseFile + suffix))
            {
                using var stream = new FileStream(gateway.DatabaseFile + suffix, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
                using var copy = new MemoryStream();
                await stream.CopyToAsync(copy);
                bytes.AddRange(copy.ToArray());
            }
        }
        var content = Encoding.Latin1.GetString(bytes.ToArray());
        Assert.True(content.Length > 0);
        Assert.DoesNotContain(providerKey, content);
        Assert.DoesNotContain(providerKey[..20], content);
        Assert.DoesNotContain(key, content);
        Assert.Contains(Proxy.Core.Keys.KeyMaterial.Hash(key), content);
    }
}
