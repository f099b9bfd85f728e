using System.Security.Claims;
using Bunit;
using Microsoft.Extensions.DependencyInjection;
using Portal.Components.Pages.Teams;
using Proxy.Core.Access;
using Proxy.Core.Persistence;
using Proxy.Core.Routing;
using Proxy.Core.Teams;
using Proxy.Core.Usage;

namespace Portal.Tests.Components;

/// <summary>The Logs tab: its empty state, its note that bodies are not stored, and a member's view of their own calls only.</summary>
public sealed class LogsTabTests : PortalUiContext
{
    private const string Lead = "lead@example.com";
    private const string Dev = "dev@example.com";

    public LogsTabTests() =>
        Ui.Services.AddSingleton<Microsoft.AspNetCore.Identity.ILookupNormalizer, Microsoft.AspNetCore.Identity.UpperInvariantLookupNormalizer>();

    /// <summary>A migrated database with a team of an admin and a member; returns the team and both user ids.</summary>
    private async Task<(string Team, string LeadId, string DevId)> SeedAsync()
    {
        await using (var scope = Ui.Services.CreateAsyncScope())
        {
            await Database.MigrateAsync(scope.ServiceProvider.GetRequiredService<PortalDb>());
        }
        await using var writes = Ui.Services.CreateAsyncScope();
        var teams = writes.ServiceProvider.GetRequiredService<TeamService>();
        var teamId = (await teams.CreateAsync(Caller.MasterKey, new TeamInput { TeamAlias = "ui" })).Team.TeamId;
        await teams.AddMembersAsync(Caller.MasterKey, teamId, [new MemberInput(null, Lead, TeamRole.Admin), new MemberInput(null, Dev, TeamRole.User)]);
        var members = (await teams.GetAsync(Caller.MasterKey, teamId)).Team.Members;
        await Ui.Services.GetRequiredService<RouteTable>().RefreshAsync();
        return (teamId, members.Single(m => m.User?.Email == Lead).UserId, members.Single(m => m.User?.Email == Dev).UserId);
    }

    private async Task RecordAsync(string teamId, string userId, string model)
    {
        await using var scope = Ui.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PortalDb>();
        db.Usage.Add(new UsageRecord
        {
            CallId = Guid.NewGuid().ToString("N"), KeyHash = "hash", TeamId = teamId, UserId = userId, Model = model, Deployment = "gpt-4o",
            Route = "chat/completions", Status = 200, PromptTokens = 11, CompletionTokens = 7, TotalTokens = 18, StartedAt = DateTime.UtcNow,
        });
        await db.SaveChangesAsync();
    }

    private IRenderedComponent<LogsTab> RenderTab(string teamId, string userId)
    {
        Auth.SetClaims(new Claim(ClaimTypes.NameIdentifier, userId));
        RenderProviders();
        return Ui.Render<LogsTab>(p => p.Add(t => t.TeamId, teamId).Add(t => t.Keys, []).Add(t => t.Models, ["alpha"]));
    }

    [Fact]
    public async Task NoCalls_ShowTheEmptyState_AndSayBodiesAreNotStored()
    {
        var (team, leadId, _) = await SeedAsync();

        var tab = RenderTab(team, leadId);

        tab.WaitForAssertion(() => Assert.Contains("No calls recorded yet", tab.Find("[data-testid=empty-state]").TextContent));
        Assert.Empty(tab.FindAll("[data-testid=logs]"));
        Assert.Contains("Request and response bodies are not stored", tab.Find("[data-testid=logs-note]").TextContent);
        Assert.Contains("Every call made with the team's keys", tab.Find("[data-testid=logs-note]").TextContent);
        Assert.True(tab.Find("[data-testid=logs-older]").HasAttribute("disabled"));
        Assert.True(tab.Find("[data-testid=logs-newer]").HasAttribute("disabled"));
    }

    [Fact]
    public async Task AMember_SeesTheirOwnCalls_NotAColleagues()
    {
        var (team, leadId, devId) = await SeedAsync();
        await RecordAsync(team, leadId, "leads-model");

        // The admin's call alone: the member's log is empty.
        var tab = RenderTab(team, devId);
        tab.WaitForAssertion(() => Assert.Contains("No calls recorded yet", tab.Find("[data-testid=empty-state]").TextContent));
        Assert.Contains("The calls made with your own keys", tab.Find("[data-testid=logs-note]").TextContent);
        Assert.DoesNotContain("leads-model", tab.Markup);

        await RecordAsync(team, devId, "devs-model");
        var again = Ui.Render<LogsTab>(p => p.Add(t => t.TeamId, team).Add(t => t.Keys, []).Add(t => t.Models, ["alpha"]));
        again.WaitForAssertion(() => Assert.Equal("devs-model", again.Find("[data-testid=log-model]").TextContent.Trim()));
        Assert.Single(again.FindAll("[data-testid=logs] tbody tr"));
        Assert.DoesNotContain("leads-model", again.Markup);
    }
}
