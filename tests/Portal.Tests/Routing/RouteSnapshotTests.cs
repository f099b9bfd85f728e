using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Portal.Tests.Infrastructure;
using Proxy.Core.Routing;
using Proxy.Core.Secrets;
using Proxy.Core.Spend;

namespace Portal.Tests.Routing;

/// <summary>The snapshot a change leaves behind, built by replacing only the changed teams, equals a full reload.</summary>
[Trait("Category", "Database")]
public sealed class RouteSnapshotTests(GatewayFactory gateway) : IClassFixture<GatewayFactory>
{
    [Fact]
    public async Task TeamByTeamUpdates_EqualAFullReload()
    {
        var admin = gateway.Client();
        var a = await gateway.CreateTeamAsync("a");
        var b = await gateway.CreateTeamAsync("b");
        var c = await gateway.CreateTeamAsync("c");
        foreach (var (team, email, role) in new[] { (a, "both@example.com", "admin"), (b, "both@example.com", "user"), (c, "c@example.com", "admin") })
        {
            (await admin.PostAsJsonAsync("/team/member_add", new { team_id = team, member = new { user_email = email, role } })).EnsureSuccessStatusCode();
        }
        var keyA = await gateway.GenerateKeyAsync(a);
        var keyB = await gateway.GenerateKeyAsync(b, new { models = new[] { "m" } });
        var keyC = await gateway.GenerateKeyAsync(c);
        var modelA = (await gateway.AddTeamModelAsync(keyA, a, "shared"))["model_id"]!.GetValue<string>();
        await gateway.AddTeamModelAsync(keyA, a, "shared");
        await gateway.AddTeamModelAsync(keyB, b, "shared");
        await gateway.AddTeamModelAsync(keyC, c, "c-only");
        (await admin.PostAsJsonAsync("/model/new", new { model_name = "global", litellm_params = new { model = "openai/gpt-4o", api_key = "sk-global-provider-abcdef" } })).EnsureSuccessStatusCode();
        (await admin.PostAsJsonAsync("/model/delete", new { id = modelA })).EnsureSuccessStatusCode();
        (await admin.PostAsJsonAsync("/key/regenerate", new { key = keyB })).EnsureSuccessStatusCode();
        (await admin.PostAsJsonAsync("/team/member_update", new { team_id = b, user_email = "both@example.com", role = "admin" })).EnsureSuccessStatusCode();
        (await admin.PostAsJsonAsync("/team/update", new { team_id = a, blocked = true })).EnsureSuccessStatusCode();
        (await admin.PostAsJsonAsync("/team/delete", new { team_ids = new[] { c } })).EnsureSuccessStatusCode();

        var incremental = gateway.Services.GetRequiredService<RouteTable>().Current;
        // Its own ledger and deployment states: a second table must not rebind the live ones of the first.
        var fresh = new RouteTable(gateway.Services.GetRequiredService<IServiceScopeFactory>(), gateway.Services.GetRequiredService<SecretBox>(),
            new SpendLedger(TimeProvider.System), gateway.Services.GetRequiredService<PriceTable>(), new DeploymentStates(),
            gateway.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<RoutingOptions>>(), NullLogger<RouteTable>.Instance);
        await fresh.RefreshAsync();

        Assert.Equal(Describe(fresh.Current), Describe(incremental));
        Assert.DoesNotContain(c, incremental.Teams.Keys);
        Assert.Equal("admin", incremental.RolesOf(incremental.Users.Values.Single(u => u.Email == "both@example.com").UserId)[b]);
    }

    [Fact]
    public async Task AChangeOnOneInstance_IsLiveOnAnotherSharingTheDatabase()
    {
        await using var upstream = new StandInUpstream();
        await using var second = new GatewayFactory { Settings = { ["ConnectionStrings:Portal"] = gateway.ConnectionString } };
        var team = await gateway.CreateTeamAsync("shared-db");
        var key = await gateway.GenerateKeyAsync(team);
        // Started (its first snapshot loaded) before the change, so that the sync is what is timed and tested, not a start-up.
        Assert.Equal(HttpStatusCode.BadRequest, (await second.Client(key).PostAsJsonAsync("/v1/chat/completions", new { model = "made-on-the-first", messages = Array.Empty<object>() })).StatusCode);
        (await gateway.Client(key).PostAsJsonAsync("/model/new", new
        {
            model_name = "made-on-the-first",
            litellm_params = new { model = "openai/gpt-4o", api_base = upstream.ApiBase("ok", out _), api_key = "sk-provider-other-instance-1" },
            model_info = new { team_id = team },
        })).EnsureSuccessStatusCode();

        var started = DateTime.UtcNow;
        HttpStatusCode status;
        do
        {
            var response = await second.Client(key).PostAsJsonAsync("/v1/chat/completions", new { model = "made-on-the-first", messages = Array.Empty<object>() });
            status = response.StatusCode;
        }
        while (status != HttpStatusCode.OK && DateTime.UtcNow - started < TimeSpan.FromSeconds(10));

        Assert.Equal(HttpStatusCode.OK, status);
        // The sync interval is 1 s; five of them allows for a busy machine, and a sync that never ran still fails.
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(5), "the second instance took longer than five sync intervals to see the change");
    }

    private static string Describe(RouteSnapshot s) => System.Text.Json.JsonSerializer.Serialize(new
    {
        s.Version,
        keys = s.KeysByHash.OrderBy(k => k.Key).Select(k => k.Value with { Models = [] }).Select(k => (k.Hash, k.TeamId, k.UserId, k.KeyType, k.Blocked)).Select(t => t.ToString()),
        teams = s.Teams.OrderBy(t => t.Key).Select(t => new
        {
            t.Key,
            t.Value.Blocked,
            models = string.Join(",", t.Value.Models),
            aliases = t.Value.Aliases.OrderBy(a => a.Key).Select(a => $"{a.Key}={a.Value}"),
            members = t.Value.Members.OrderBy(m => m.Key).Select(m => $"{m.Key}={m.Value}"),
            keys = t.Value.KeyHashes.Order(),
        }),
        groups = s.Groups.OrderBy(g => g.Key).Select(g => $"{g.Key}:{string.Join(",", g.Value.Select(d => d.ModelId).Order())}"),
        users = s.Users.OrderBy(u => u.Key).Select(u => u.Value.ToString()),
        roles = s.Users.Keys.Order().Select(u => $"{u}:{string.Join(",", s.RolesOf(u).OrderBy(r => r.Key).Select(r => $"{r.Key}={r.Value}"))}"),
        globals = s.GlobalModelNames,
    });
}
