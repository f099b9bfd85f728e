using System.Net;
using System.Net.Http.Json;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Audit;

/// <summary>An update says what it did: blocking and unblocking a key are actions of their own, and each update carries what it changed.</summary>
[Trait("Category", "Database")]
public sealed class ChangeAuditTests(GatewayFactory gateway) : IClassFixture<GatewayFactory>
{
    [Fact]
    public async Task BlockAndUnblock_AreRecordedDistinctly_WithBeforeAndAfter()
    {
        var team = await gateway.CreateTeamAsync("audited-blocks");
        var key = await gateway.GenerateKeyAsync(team);
        (await gateway.Client().PostAsJsonAsync("/key/update", new { key, blocked = true })).EnsureSuccessStatusCode();
        (await gateway.Client().PostAsJsonAsync("/key/update", new { key, blocked = false })).EnsureSuccessStatusCode();
        (await gateway.Client().PostAsJsonAsync("/key/update", new { key, key_alias = "renamed" })).EnsureSuccessStatusCode();

        var json = await (await gateway.Client().GetAsync($"/audit?team_id={team}")).ReadJsonAsync(HttpStatusCode.OK);
        var events = json["data"]!.AsArray();

        Assert.Equal(["key.update", "key.unblock", "key.block", "key.generate", "team.create"], events.Select(e => e!["action"]!.GetValue<string>()));
        var block = events[2]!["details"]!;
        Assert.True(block["blocked"]!.GetValue<bool>());
        Assert.Equal("""{"blocked":{"from":false,"to":true}}""", block["changes"]!.ToJsonString());
        Assert.Equal("""{"key_alias":{"from":null,"to":"renamed"}}""", events[0]!["details"]!["changes"]!.ToJsonString());
        Assert.DoesNotContain(key, json.ToJsonString());
    }
}
