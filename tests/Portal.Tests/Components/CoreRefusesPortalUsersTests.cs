using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Portal.Tests.Infrastructure;
using Proxy.Core;
using Proxy.Core.Access;
using Proxy.Core.Keys;
using Proxy.Core.Models;
using Proxy.Core.Teams;

namespace Portal.Tests.Components;

/// <summary>Hidden buttons are a courtesy; the core refuses a portal member's changes whatever the page shows.</summary>
[Trait("Category", "Database")]
public sealed class CoreRefusesPortalUsersTests(GatewayFactory gateway) : IClassFixture<GatewayFactory>
{
    [Fact]
    public async Task TeamMember_CanReadButNotChange_TeamAdmin_CannotTouchAnotherTeam()
    {
        var team = await gateway.CreateTeamAsync("ui-team");
        var other = await gateway.CreateTeamAsync("ui-other");
        var json = await (await gateway.Client().PostAsJsonAsync("/team/member_add", new
        {
            team_id = team,
            member = new[] { new { user_email = "member@example.com", role = "user" }, new { user_email = "lead@example.com", role = "admin" } },
        })).ReadJsonAsync(HttpStatusCode.OK);
        var ids = json["updated_team"]!["members_with_roles"]!.AsArray().ToDictionary(m => m!["user_email"]!.GetValue<string>(), m => m!["user_id"]!.GetValue<string>());
        await using var scope = gateway.Services.CreateAsyncScope();
        var callers = scope.ServiceProvider.GetRequiredService<CallerResolver>();
        var teams = scope.ServiceProvider.GetRequiredService<TeamService>();
        var models = scope.ServiceProvider.GetRequiredService<ModelService>();
        var keys = scope.ServiceProvider.GetRequiredService<KeyService>();
        var member = callers.FromUser(ids["member@example.com"]);
        var lead = callers.FromUser(ids["lead@example.com"]);

        Assert.Equal(team, (await teams.GetAsync(member, team)).Team.TeamId);
        var add = await Assert.ThrowsAsync<ProxyError>(() => models.AddAsync(member, new ModelInput { ModelName = "m", UpstreamModel = "openai/gpt-4o", TeamId = team }));
        Assert.Equal(403, add.Status);
        // A member's own key is theirs to make (team_member_permissions' default); one for the team or a colleague is not.
        Assert.Equal(ids["member@example.com"], (await keys.GenerateAsync(member, new KeyInput { TeamId = team })).Key.UserId);
        Assert.Equal(403, (await Assert.ThrowsAsync<ProxyError>(() => keys.GenerateAsync(member, new KeyInput { TeamId = team, UserId = ids["lead@example.com"] }))).Status);
        Assert.Equal(403, (await Assert.ThrowsAsync<ProxyError>(() => teams.AddMembersAsync(member, team, [new MemberInput(null, "x@example.com", "user")]))).Status);

        await keys.GenerateAsync(lead, new KeyInput { TeamId = team });
        Assert.Equal(403, (await Assert.ThrowsAsync<ProxyError>(() => teams.GetAsync(lead, other))).Status);
        Assert.Equal(403, (await Assert.ThrowsAsync<ProxyError>(() => keys.GenerateAsync(lead, new KeyInput { TeamId = other }))).Status);
        Assert.Equal(403, (await Assert.ThrowsAsync<ProxyError>(() => teams.CreateAsync(lead, new TeamInput { TeamAlias = "mine" }))).Status);
    }
}
