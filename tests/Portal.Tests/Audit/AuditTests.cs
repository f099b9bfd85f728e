using System.Net;
using System.Net.Http.Json;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Audit;

[Trait("Category", "Database")]
public sealed class AuditTests(GatewayFactory gateway) : IClassFixture<GatewayFactory>
{
    [Fact]
    public async Task EveryChangeIsRecorded_WithWhoWhatWhen_AndNoSecret()
    {
        const string providerKey = "sk-provider-audit-check-aa11bb22cc33";
        var team = await gateway.CreateTeamAsync("audited");
        var key = await gateway.GenerateKeyAsync(team);
        var model = await gateway.AddTeamModelAsync(key, team, "audited-model", apiKey: providerKey);
        (await gateway.Client(key).PostAsJsonAsync("/model/delete", new { id = model["model_id"]!.GetValue<string>() })).EnsureSuccessStatusCode();

        var json = await (await gateway.Client().GetAsync($"/audit?team_id={team}")).ReadJsonAsync(HttpStatusCode.OK);
        var events = json["data"]!.AsArray();

        Assert.Equal(["model.delete", "model.create", "key.generate", "team.create"], events.Select(e => e!["action"]!.GetValue<string>()));
        Assert.All(events, e => Assert.Equal(team, e!["team_id"]!.GetValue<string>()));
        Assert.Equal("master_key", events[3]!["actor"]!.GetValue<string>());
        Assert.Equal($"sk-...{key[^4..]}", events[1]!["actor"]!.GetValue<string>());
        Assert.True(DateTime.UtcNow - events[0]!["at"]!.GetValue<DateTime>() < TimeSpan.FromMinutes(5));
        var text = json.ToJsonString();
        Assert.DoesNotContain(providerKey, text);
        Assert.DoesNotContain(key, text);
        Assert.Contains("****cc33", text);
    }

    [Fact]
    public async Task TeamAdminReadsItsAuditLog_PlainTeamKeyAndOtherTeamsCannot()
    {
        var team = await gateway.CreateTeamAsync();
        var added = await (await gateway.Client().PostAsJsonAsync("/team/member_add", new { team_id = team, member = new { user_email = $"{Guid.NewGuid():N}@example.com", role = "admin" } }))
            .ReadJsonAsync(HttpStatusCode.OK);
        var adminKey = await gateway.GenerateKeyAsync(team, new { user_id = added["updated_team"]!["members_with_roles"]![0]!["user_id"]!.GetValue<string>() });
        var plainKey = await gateway.GenerateKeyAsync(team);
        var otherKey = await gateway.GenerateKeyAsync(await gateway.CreateTeamAsync());

        await (await gateway.Client(adminKey).GetAsync($"/audit?team_id={team}")).ReadJsonAsync(HttpStatusCode.OK);
        await (await gateway.Client(plainKey).GetAsync($"/audit?team_id={team}")).ReadErrorAsync(HttpStatusCode.Forbidden);
        await (await gateway.Client(otherKey).GetAsync($"/audit?team_id={team}")).ReadErrorAsync(HttpStatusCode.Forbidden);
    }
}
