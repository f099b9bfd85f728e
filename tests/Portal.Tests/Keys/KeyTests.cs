using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.Time.Testing;
using Portal.Tests.Infrastructure;
using Proxy.Core.Keys;

namespace Portal.Tests.Keys;

[Trait("Category", "Database")]
public sealed class KeyTests(GatewayFactory gateway) : IClassFixture<GatewayFactory>
{
    [Fact]
    public async Task Generate_ReturnsTheRawKeyOnce_AndItsHash()
    {
        var team = await gateway.CreateTeamAsync();

        var json = await (await gateway.Client().PostAsJsonAsync("/key/generate", new { team_id = team, key_alias = $"ci-{Guid.NewGuid():N}" })).ReadJsonAsync(HttpStatusCode.OK);

        var raw = json["key"]!.GetValue<string>();
        Assert.Matches("^sk-[A-Za-z0-9_-]{32,}$", raw);
        Assert.Equal(KeyMaterial.Hash(raw), json["token"]!.GetValue<string>());
        Assert.Equal($"sk-...{raw[^4..]}", json["key_name"]!.GetValue<string>());

        var info = await gateway.Client(raw).GetStringAsync("/key/info");
        var teamInfo = await gateway.Client().GetStringAsync($"/team/info?team_id={team}");
        foreach (var body in new[] { info, teamInfo })
        {
            Assert.DoesNotContain(raw, body);
            Assert.DoesNotContain(KeyMaterial.Hash(raw), body);
            Assert.Contains(raw[^4..], body);
        }
    }

    [Fact]
    public async Task KeyInfo_AcceptsRawKeyOrHash_AndHidesOtherTeamsKeys()
    {
        var team = await gateway.CreateTeamAsync();
        var key = await gateway.GenerateKeyAsync(team);
        var otherKey = await gateway.GenerateKeyAsync(await gateway.CreateTeamAsync());

        await (await gateway.Client().GetAsync($"/key/info?key={key}")).ReadJsonAsync(HttpStatusCode.OK);
        await (await gateway.Client().GetAsync($"/key/info?key={KeyMaterial.Hash(key)}")).ReadJsonAsync(HttpStatusCode.OK);
        await (await gateway.Client(otherKey).GetAsync($"/key/info?key={key}")).ReadErrorAsync(HttpStatusCode.NotFound);
        await (await gateway.Client().GetAsync("/key/info?key=sk-does-not-exist-000000000000000000")).ReadErrorAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task BlockedKey_Is401_UntilUnblocked()
    {
        var key = await gateway.GenerateKeyAsync(await gateway.CreateTeamAsync());

        (await gateway.Client().PostAsJsonAsync("/key/update", new { key, blocked = true })).EnsureSuccessStatusCode();
        Assert.Contains("blocked", await (await gateway.Client(key).GetAsync("/v1/models")).ReadErrorAsync(HttpStatusCode.Unauthorized, "auth_error"));

        (await gateway.Client().PostAsJsonAsync("/key/update", new { key, blocked = false })).EnsureSuccessStatusCode();
        await (await gateway.Client(key).GetAsync("/v1/models")).ReadJsonAsync(HttpStatusCode.OK);
    }

    [Fact]
    public async Task DeletedKey_Is401_OnTheVeryNextRequest()
    {
        var alias = $"to-delete-{Guid.NewGuid():N}";
        var team = await gateway.CreateTeamAsync();
        var byKey = await gateway.GenerateKeyAsync(team);
        var byAlias = await gateway.GenerateKeyAsync(team, new { key_alias = alias });

        var deleted = await (await gateway.Client().PostAsJsonAsync("/key/delete", new { keys = new[] { byKey } })).ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal(KeyMaterial.Mask(byKey), deleted["deleted_keys"]![0]!.GetValue<string>());
        (await gateway.Client().PostAsJsonAsync("/key/delete", new { key_aliases = new[] { alias } })).EnsureSuccessStatusCode();

        await (await gateway.Client(byKey).GetAsync("/v1/models")).ReadErrorAsync(HttpStatusCode.Unauthorized);
        await (await gateway.Client(byAlias).GetAsync("/v1/models")).ReadErrorAsync(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Regenerate_KillsTheOldKeyAtOnce_AndKeepsSettings()
    {
        var team = await gateway.CreateTeamAsync();
        var old = await gateway.GenerateKeyAsync(team, new { models = new[] { "m1" } });

        var viaPath = await (await gateway.Client().PostAsync($"/key/{old}/regenerate", null)).ReadJsonAsync(HttpStatusCode.OK);
        var fresh = viaPath["key"]!.GetValue<string>();
        Assert.NotEqual(old, fresh);
        Assert.Equal("m1", viaPath["models"]![0]!.GetValue<string>());
        await (await gateway.Client(old).GetAsync("/v1/models")).ReadErrorAsync(HttpStatusCode.Unauthorized);
        await (await gateway.Client(fresh).GetAsync("/v1/models")).ReadJsonAsync(HttpStatusCode.OK);

        var viaBody = await (await gateway.Client().PostAsJsonAsync("/key/regenerate", new { key = fresh })).ReadJsonAsync(HttpStatusCode.OK);
        await (await gateway.Client(fresh).GetAsync("/v1/models")).ReadErrorAsync(HttpStatusCode.Unauthorized);
        await (await gateway.Client(viaBody["key"]!.GetValue<string>()).GetAsync("/v1/models")).ReadJsonAsync(HttpStatusCode.OK);
    }

    [Fact]
    public async Task KeyAlias_IsUnique()
    {
        var alias = $"unique-{Guid.NewGuid():N}";
        var team = await gateway.CreateTeamAsync();
        await gateway.GenerateKeyAsync(team, new { key_alias = alias });

        var second = await gateway.Client().PostAsJsonAsync("/key/generate", new { team_id = team, key_alias = alias });

        Assert.Contains(alias, await second.ReadErrorAsync(HttpStatusCode.BadRequest));
    }

    [Fact]
    public async Task ManagementKey_CannotCallModels_ButCanManageItsTeamsModels()
    {
        var team = await gateway.CreateTeamAsync();
        var key = await gateway.GenerateKeyAsync(team, new { key_type = "management" });

        await gateway.AddTeamModelAsync(key, team, "by-management-key");
        await (await gateway.Client(key).GetAsync("/v1/models")).ReadErrorAsync(HttpStatusCode.Forbidden, "permission_error");
    }

    [Fact]
    public async Task InvalidDuration_Is400()
    {
        var response = await gateway.Client().PostAsJsonAsync("/key/generate", new { team_id = await gateway.CreateTeamAsync(), duration = "soon" });

        Assert.Contains("duration", await response.ReadErrorAsync(HttpStatusCode.BadRequest));
    }

    [Fact]
    public async Task List_IsPaged_AndScopedToTheTeamAdmin()
    {
        var team = await gateway.CreateTeamAsync();
        for (var i = 0; i < 3; i++)
        {
            await gateway.GenerateKeyAsync(team);
        }

        var page = await (await gateway.Client().GetAsync($"/key/list?team_id={team}&page=1&size=2")).ReadJsonAsync(HttpStatusCode.OK);

        Assert.Equal(2, page["keys"]!.AsArray().Count);
        Assert.Equal(3, page["total_count"]!.GetValue<int>());
        Assert.Equal(2, page["total_pages"]!.GetValue<int>());
        await (await gateway.Client().GetAsync("/key/list?size=1000")).ReadErrorAsync(HttpStatusCode.BadRequest);
    }
}

/// <summary>Expiry runs on a fake clock: the key works until its duration passes, then is refused with no restart.</summary>
public sealed class KeyExpiryTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.UtcNow);
    private GatewayFactory _gateway = null!;

    public Task InitializeAsync()
    {
        _gateway = new GatewayFactory { Clock = _clock };
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    [Fact]
    public async Task ExpiredKey_Is401()
    {
        var key = await _gateway.GenerateKeyAsync(await _gateway.CreateTeamAsync(), new { duration = "30m" });
        await (await _gateway.Client(key).GetAsync("/v1/models")).ReadJsonAsync(HttpStatusCode.OK);

        _clock.Advance(TimeSpan.FromMinutes(31));

        Assert.Contains("expired", await (await _gateway.Client(key).GetAsync("/v1/models")).ReadErrorAsync(HttpStatusCode.Unauthorized, "auth_error"));
    }
}
