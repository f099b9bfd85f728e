using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Access;

/// <summary>
/// A plain member's own way in (issue 30): under LiteLLM's <c>team_member_permissions</c> a member creates and handles
/// keys of their own in the team, never a colleague's, and sees neither colleagues' key settings nor where the team's
/// models send their calls.
/// </summary>
[Trait("Category", "Database")]
public sealed class MemberSelfServiceTests(GatewayFactory gateway) : IClassFixture<GatewayFactory>
{
    private static readonly string[] SelfService = ["/key/info", "/key/generate", "/key/update", "/key/regenerate", "/key/delete"];

    [Fact]
    public async Task MembersCreateTheirOwnKeys_UntilATeamAdminAllowsOnlyLiteLLMsReadOnlyDefault()
    {
        var (team, _, memberKey) = await TeamWithMemberAsync();

        var info = await (await gateway.Client().GetAsync($"/team/info?team_id={team}")).ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal(SelfService, info["team_info"]!["team_member_permissions"]!.AsArray().Select(p => p!.GetValue<string>()));
        await (await gateway.Client(memberKey).PostAsJsonAsync("/key/generate", new { team_id = team })).ReadJsonAsync(HttpStatusCode.OK);

        await AllowAsync(team, ["/key/info"]);
        var refused = await (await gateway.Client(memberKey).PostAsJsonAsync("/key/generate", new { team_id = team })).ReadErrorAsync(HttpStatusCode.Forbidden);
        Assert.Contains("team_member_permissions", refused);
    }

    [Fact]
    public async Task AllowedMember_CreatesBlocksRegeneratesAndDeletes_TheirOwnKey()
    {
        var (team, member, memberKey) = await TeamWithMemberAsync();
        await AllowAsync(team, SelfService);

        var issued = await (await gateway.Client(memberKey).PostAsJsonAsync("/key/generate", new { team_id = team, key_alias = $"mine-{Guid.NewGuid():N}" }))
            .ReadJsonAsync(HttpStatusCode.OK);
        var own = issued["key"]!.GetValue<string>();
        Assert.Equal(member, issued["user_id"]!.GetValue<string>());
        Assert.Equal(team, issued["team_id"]!.GetValue<string>());
        await (await gateway.Client(own).GetAsync("/v1/models")).ReadJsonAsync(HttpStatusCode.OK);

        await (await gateway.Client(memberKey).PostAsJsonAsync("/key/update", new { key = own, blocked = true })).ReadJsonAsync(HttpStatusCode.OK);
        await (await gateway.Client(own).GetAsync("/v1/models")).ReadErrorAsync(HttpStatusCode.Unauthorized);
        await (await gateway.Client(memberKey).PostAsJsonAsync("/key/update", new { key = own, blocked = false })).ReadJsonAsync(HttpStatusCode.OK);
        var fresh = (await (await gateway.Client(memberKey).PostAsync($"/key/{own}/regenerate", null)).ReadJsonAsync(HttpStatusCode.OK))["key"]!.GetValue<string>();
        await (await gateway.Client(own).GetAsync("/v1/models")).ReadErrorAsync(HttpStatusCode.Unauthorized);
        await (await gateway.Client(memberKey).PostAsJsonAsync("/key/delete", new { keys = new[] { fresh } })).ReadJsonAsync(HttpStatusCode.OK);
        await (await gateway.Client(fresh).GetAsync("/v1/models")).ReadErrorAsync(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task AllowedMember_CannotTouchAColleaguesKey_NorCreateOneForThem()
    {
        var (team, _, memberKey) = await TeamWithMemberAsync();
        var colleague = await AddMemberAsync(team, "user");
        var colleaguesKey = await gateway.GenerateKeyAsync(team, new { user_id = colleague });
        var teamKey = await gateway.GenerateKeyAsync(team);
        await AllowAsync(team, SelfService);

        foreach (var other in new[] { colleaguesKey, teamKey })
        {
            await (await gateway.Client(memberKey).PostAsJsonAsync("/key/update", new { key = other, blocked = true })).ReadErrorAsync(HttpStatusCode.NotFound);
            await (await gateway.Client(memberKey).PostAsJsonAsync("/key/delete", new { keys = new[] { other } })).ReadErrorAsync(HttpStatusCode.NotFound);
            await (await gateway.Client(memberKey).PostAsync($"/key/{other}/regenerate", null)).ReadErrorAsync(HttpStatusCode.NotFound);
            await (await gateway.Client(other).GetAsync("/v1/models")).ReadJsonAsync(HttpStatusCode.OK);
        }
        var forColleague = await gateway.Client(memberKey).PostAsJsonAsync("/key/generate", new { team_id = team, user_id = colleague });
        Assert.Contains("their own keys", await forColleague.ReadErrorAsync(HttpStatusCode.Forbidden));
    }

    [Fact]
    public async Task TeamAdminTurnsSelfServiceOff_AndTheMembersOwnKeysAreTheirsToUseOnly()
    {
        var (team, _, memberKey) = await TeamWithMemberAsync();
        await AllowAsync(team, SelfService);
        var own = await gateway.GenerateKeyAsync(team, by: memberKey);

        var admin = await gateway.GenerateKeyAsync(team, new { user_id = await AddMemberAsync(team, "admin") });
        (await gateway.Client(admin).PostAsJsonAsync("/team/update", new { team_id = team, team_member_permissions = new[] { "/key/info" } })).EnsureSuccessStatusCode();

        await (await gateway.Client(memberKey).PostAsJsonAsync("/key/generate", new { team_id = team })).ReadErrorAsync(HttpStatusCode.Forbidden);
        await (await gateway.Client(memberKey).PostAsJsonAsync("/key/update", new { key = own, rpm_limit = 5 })).ReadErrorAsync(HttpStatusCode.Forbidden);
        await (await gateway.Client(own).GetAsync("/v1/models")).ReadJsonAsync(HttpStatusCode.OK);
    }

    [Fact]
    public async Task UnsupportedPermission_Is400_NeverStoredAndIgnored()
    {
        var team = await gateway.CreateTeamAsync();

        await AllowAsync(team, ["/key/info"]);
        var refused = await gateway.Client().PostAsJsonAsync("/team/update", new { team_id = team, team_member_permissions = new[] { "/key/generate", "/key/health" } });

        Assert.Contains("/key/health", await refused.ReadErrorAsync(HttpStatusCode.BadRequest));
        var info = await (await gateway.Client().GetAsync($"/team/info?team_id={team}")).ReadJsonAsync(HttpStatusCode.OK);
        Assert.DoesNotContain("/key/generate", info["team_info"]!["team_member_permissions"]!.ToJsonString());
    }

    [Fact]
    public async Task AMembersKey_CannotChangeTheTeamsModels()
    {
        var (team, _, memberKey) = await TeamWithMemberAsync();

        var refused = await gateway.Client(memberKey).PostAsJsonAsync("/model/new", GatewayFactory.TeamModel(team, "by-member"));

        await refused.ReadErrorAsync(HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task Member_SeesColleaguesKeysMasked_AndNoUpstreamOfTeamModels()
    {
        var (team, member, memberKey) = await TeamWithMemberAsync();
        var colleague = await AddMemberAsync(team, "user");
        var alias = $"colleague-{Guid.NewGuid():N}";
        await gateway.GenerateKeyAsync(team, new { user_id = colleague, key_alias = alias, max_budget = 42.5, models = new[] { "secret-model" } });
        await gateway.AddTeamModelAsync(GatewayFactory.MasterKey, team, "team-gpt", apiBase: "https://upstream-only-admins-see.example.com");

        var keys = (await (await gateway.Client(memberKey).GetAsync($"/team/info?team_id={team}")).ReadJsonAsync(HttpStatusCode.OK))["keys"]!.AsArray();
        var theirs = keys.Single(k => k!["key_alias"]?.GetValue<string>() == alias)!;
        Assert.Null(theirs["max_budget"]);
        Assert.Null(theirs["user_id"]);
        Assert.Empty(theirs["models"]!.AsArray());
        var mine = keys.Single(k => k!["user_id"]?.GetValue<string>() == member)!;
        Assert.NotNull(mine["key_name"]);

        var models = await gateway.Client(memberKey).GetStringAsync("/model/info");
        Assert.Contains("team-gpt", models);
        Assert.DoesNotContain("upstream-only-admins-see", models);
        Assert.Contains("upstream-only-admins-see", await gateway.Client().GetStringAsync("/model/info"));
    }


    /// <summary>A team with one plain member, and a key of the team that an admin made for that member.</summary>
    private async Task<(string Team, string Member, string MemberKey)> TeamWithMemberAsync()
    {
        var team = await gateway.CreateTeamAsync();
        var member = await AddMemberAsync(team, "user");
        return (team, member, await gateway.GenerateKeyAsync(team, new { user_id = member }));
    }

    private async Task<string> AddMemberAsync(string team, string role)
    {
        var email = $"member-{Guid.NewGuid():N}@example.com";
        var json = await (await gateway.Client().PostAsJsonAsync("/team/member_add", new { team_id = team, member = new { user_email = email, role } }))
            .ReadJsonAsync(HttpStatusCode.OK);
        return json["updated_team"]?["members_with_roles"] is JsonArray members
            ? members.Single(m => m!["user_email"]?.GetValue<string>() == email)!["user_id"]!.GetValue<string>()
            : throw new InvalidOperationException(json.ToJsonString());
    }

    private async Task AllowAsync(string team, string[] permissions) =>
        (await gateway.Client().PostAsJsonAsync("/team/update", new { team_id = team, team_member_permissions = permissions })).EnsureSuccessStatusCode();
}
