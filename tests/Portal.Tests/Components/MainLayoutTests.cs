using System.Security.Claims;
using Bunit;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;
using Portal.Components.Layout;
using Proxy.Core.Access;
using Proxy.Core.Persistence;
using Proxy.Core.Routing;
using Proxy.Core.Teams;
using Proxy.Core.Users;

namespace Portal.Tests.Components;

/// <summary>The navigation offers Admin only to those the core lets in: a team's member is spared a dead end.</summary>
public sealed class MainLayoutTests : PortalUiContext
{
    // TeamService finds members by normalised email, as Identity does in the host.
    public MainLayoutTests()
    {
        Ui.Services.AddSingleton<Microsoft.AspNetCore.Identity.ILookupNormalizer, Microsoft.AspNetCore.Identity.UpperInvariantLookupNormalizer>();
        Ui.SetRendererInfo(new RendererInfo("Server", true));
    }

    /// <summary>A proxy admin (<c>ui-admin</c>) and a team admin (<c>ui-lead</c>) who is no proxy admin.</summary>
    private async Task SeedAsync()
    {
        await using (var scope = Ui.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<PortalDb>();
            await Database.MigrateAsync(db);
            db.Users.Add(User("ui-admin", "admin@example.com", isProxyAdmin: true));
            db.Users.Add(User("ui-lead", "lead@example.com", isProxyAdmin: false));
            await db.SaveChangesAsync();
        }
        await using (var writes = Ui.Services.CreateAsyncScope())
        {
            var teams = writes.ServiceProvider.GetRequiredService<TeamService>();
            var team = (await teams.CreateAsync(Caller.MasterKey, new TeamInput { TeamAlias = "ui" })).Team.TeamId;
            await teams.AddMembersAsync(Caller.MasterKey, team, [new MemberInput(null, "lead@example.com", TeamRole.Admin)]);
        }
        await Ui.Services.GetRequiredService<RouteTable>().RefreshAsync();
    }

    private static PortalUser User(string id, string email, bool isProxyAdmin) => new()
    {
        Id = id, Email = email, UserName = email, NormalizedUserName = email.ToUpperInvariant(), NormalizedEmail = email.ToUpperInvariant(),
        IsProxyAdmin = isProxyAdmin, SecurityStamp = Guid.NewGuid().ToString("N"), CreatedAt = DateTime.UtcNow,
    };

    private IRenderedComponent<MainLayout> RenderAs(string userId, string email)
    {
        Auth.SetAuthorized(email);
        Auth.SetClaims(new Claim(ClaimTypes.NameIdentifier, userId));
        return Ui.Render<MainLayout>(p => p.Add(l => l.Body, (RenderFragment)(b => b.AddContent(0, "page"))));
    }

    [Fact]
    public async Task ATeamAdmin_IsNotOfferedAdmin_InTheBarOrTheDrawer()
    {
        await SeedAsync();

        var layout = RenderAs("ui-lead", "lead@example.com");
        layout.Find("[data-testid=nav-menu]").Click();

        layout.WaitForAssertion(() => Assert.Equal(2, layout.FindAll("[data-testid=nav-teams]").Count));
        Assert.Empty(layout.FindAll("[data-testid=nav-admin]"));
    }

    [Fact]
    public async Task AProxyAdmin_IsOfferedAdmin_InTheBarAndTheDrawer()
    {
        await SeedAsync();

        var layout = RenderAs("ui-admin", "admin@example.com");
        layout.Find("[data-testid=nav-menu]").Click();

        layout.WaitForAssertion(() => Assert.Equal(2, layout.FindAll("[data-testid=nav-admin]").Count));
        Assert.All(layout.FindAll("[data-testid=nav-admin]"), link => Assert.EndsWith("/admin", link.GetAttribute("href")));
    }

    [Fact]
    public void OnASignInPage_NothingButTheName_IsOffered()
    {
        Auth.SetNotAuthorized();

        var layout = Ui.Render<MainLayout>(p => p.Add(l => l.Body, (RenderFragment)(b => b.AddContent(0, "sign in"))));

        Assert.Empty(layout.FindAll("[data-testid=nav-menu]"));
        Assert.Empty(layout.FindAll("[data-testid=nav-teams]"));
        Assert.Empty(layout.FindAll("[data-testid=nav-admin]"));
    }
}
