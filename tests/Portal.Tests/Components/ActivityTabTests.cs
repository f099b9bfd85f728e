using System.Security.Claims;
using Bunit;
using Microsoft.Extensions.DependencyInjection;
using Portal.Components.Pages.Teams;
using Proxy.Core.Access;
using Proxy.Core.Keys;
using Proxy.Core.Models;
using Proxy.Core.Persistence;
using Proxy.Core.Routing;
using Proxy.Core.Teams;
using Proxy.Core.Users;

namespace Portal.Tests.Components;

/// <summary>
/// The Activity tab reads as sentences: who did what to which key, model or member, by name (email, key alias, team
/// alias), never by id; blocking and unblocking a key read differently; an update lists what it changed.
/// </summary>
public sealed class ActivityTabTests : PortalUiContext
{
    private const string Lena = "lena@example.com";

    public ActivityTabTests() =>
        Ui.Services.AddSingleton<Microsoft.AspNetCore.Identity.ILookupNormalizer, Microsoft.AspNetCore.Identity.UpperInvariantLookupNormalizer>();

    /// <summary>
    /// A team "ui" whose admin Lena (added by the signed-in proxy admin) creates key ci-pipeline, blocks it, unblocks
    /// it, and registers my-team-model. Returns the team id and Lena's user id.
    /// </summary>
    private async Task<(string TeamId, string LenaId)> SeedAsync()
    {
        await using (var scope = Ui.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<PortalDb>();
            await Database.MigrateAsync(db);
            db.Users.Add(new PortalUser
            {
                Id = "ui-admin", Email = "someone@example.com", UserName = "someone@example.com", NormalizedUserName = "SOMEONE@EXAMPLE.COM",
                IsProxyAdmin = true, SecurityStamp = Guid.NewGuid().ToString("N"), CreatedAt = DateTime.UtcNow,
            });
            await db.SaveChangesAsync();
        }
        Auth.SetClaims(new Claim(ClaimTypes.NameIdentifier, "ui-admin"));
        var routes = Ui.Services.GetRequiredService<RouteTable>();
        await routes.RefreshAsync();
        var callers = Ui.Services.GetRequiredService<CallerResolver>();

        string teamId, lenaId;
        await using (var writes = Ui.Services.CreateAsyncScope())
        {
            var teams = writes.ServiceProvider.GetRequiredService<TeamService>();
            teamId = (await teams.CreateAsync(callers.FromUser("ui-admin"), new TeamInput { TeamAlias = "ui" })).Team.TeamId;
            var view = await teams.AddMembersAsync(callers.FromUser("ui-admin"), teamId, [new MemberInput(null, Lena, TeamRole.Admin)]);
            lenaId = view.Team.Members.Single().UserId;
            // Dev, added as a member, then made an admin: the second event names Dev by user id only.
            await teams.AddMembersAsync(callers.FromUser("ui-admin"), teamId, [new MemberInput(null, "dev@example.com", TeamRole.User)]);
            await teams.UpdateMemberAsync(callers.FromUser("ui-admin"), teamId, new MemberInput(null, "dev@example.com", TeamRole.Admin));
        }
        await routes.RefreshAsync();
        var lena = callers.FromUser(lenaId);
        await using (var writes = Ui.Services.CreateAsyncScope())
        {
            var keys = writes.ServiceProvider.GetRequiredService<KeyService>();
            var issued = await keys.GenerateAsync(lena, new KeyInput { TeamId = teamId, KeyAlias = "ci-pipeline" });
            await keys.UpdateAsync(lena, issued.RawKey, new KeyInput { Blocked = true });
            await keys.UpdateAsync(lena, issued.RawKey, new KeyInput { Blocked = false });
            await writes.ServiceProvider.GetRequiredService<ModelService>().AddAsync(lena,
                new ModelInput { ModelName = "my-team-model", UpstreamModel = "openai/gpt-4o", ApiKey = "sk-provider-ui-0003", TeamId = teamId });
        }
        return (teamId, lenaId);
    }

    private static IReadOnlyList<string> Sentences(IRenderedComponent<ActivityTab> tab) =>
        [.. tab.FindAll("[data-testid=activity-sentence]").Select(s => s.TextContent.Trim())];

    [Fact]
    public async Task BlockAndUnblock_ReadAsTwoDifferentSentences_WithTheKeysAliasAndTheChange()
    {
        var (teamId, _) = await SeedAsync();

        var tab = Ui.Render<ActivityTab>(p => p.Add(t => t.TeamId, teamId));
        tab.WaitForAssertion(() => Assert.NotEmpty(Sentences(tab)));

        var sentences = Sentences(tab);
        Assert.Contains($"{Lena} blocked key ci-pipeline", sentences);
        Assert.Contains($"{Lena} unblocked key ci-pipeline", sentences);
        Assert.Contains($"{Lena} created key ci-pipeline", sentences);
        // Newest first: the unblock came after the block.
        Assert.True(sentences.ToList().IndexOf($"{Lena} unblocked key ci-pipeline") < sentences.ToList().IndexOf($"{Lena} blocked key ci-pipeline"));
        var blocked = tab.FindAll("[data-testid=activity-event]").Single(e => e.QuerySelector("[data-testid=activity-sentence]")!.TextContent.Trim() == $"{Lena} blocked key ci-pipeline");
        Assert.Equal("blocked: no → yes", blocked.QuerySelector("[data-testid=activity-changes]")!.TextContent.Trim());
    }

    [Fact]
    public async Task People_Teams_AndModels_AreNamed_NotIdentified()
    {
        var (teamId, lenaId) = await SeedAsync();

        var tab = Ui.Render<ActivityTab>(p => p.Add(t => t.TeamId, teamId));
        tab.WaitForAssertion(() => Assert.NotEmpty(Sentences(tab)));

        var sentences = Sentences(tab);
        Assert.Contains($"{Lena} registered model my-team-model (openai/gpt-4o)", sentences);
        Assert.Contains("someone@example.com created team ui", sentences);
        Assert.Contains($"someone@example.com added {Lena} as admin", sentences);
        Assert.Contains("someone@example.com made dev@example.com an admin", sentences);
        var text = string.Join("\n", sentences);
        Assert.DoesNotContain(teamId, text);
        Assert.DoesNotContain(lenaId, text);
        Assert.DoesNotContain("user:", text);
        // The stored event, ids and all, is still there behind the expander.
        Assert.Contains("key.block", tab.Markup);
    }

    [Fact]
    public async Task OlderEvents_AreAPageAway_UntilEveryEventIsShown()
    {
        var (teamId, lenaId) = await SeedAsync();
        var lena = Ui.Services.GetRequiredService<CallerResolver>().FromUser(lenaId);
        await using (var writes = Ui.Services.CreateAsyncScope())
        {
            var keys = writes.ServiceProvider.GetRequiredService<KeyService>();
            for (var i = 0; i < ActivityTab.PageSize; i++)
            {
                await keys.GenerateAsync(lena, new KeyInput { TeamId = teamId, KeyAlias = $"bulk-{i}" });
            }
        }
        RenderProviders();
        var tab = Ui.Render<ActivityTab>(p => p.Add(t => t.TeamId, teamId));
        tab.WaitForAssertion(() => Assert.Equal(ActivityTab.PageSize, Sentences(tab).Count));
        // The seed's events are the oldest: not on the first page.
        Assert.DoesNotContain(Sentences(tab), s => s.Contains("ci-pipeline", StringComparison.Ordinal));

        await tab.Find("[data-testid=activity-older]").ClickAsync(new Microsoft.AspNetCore.Components.Web.MouseEventArgs());

        tab.WaitForAssertion(() => Assert.Contains(Sentences(tab), s => s.Contains("blocked key ci-pipeline", StringComparison.Ordinal)));
        Assert.Empty(tab.FindAll("[data-testid=activity-older]"));
    }
}
