using Bunit;
using Portal.Components.Pages.Teams;
using Proxy.Core.Access;
using Proxy.Core.Keys;
using Proxy.Core.Teams;

namespace Portal.Tests.Components;

/// <summary>A member's keys tab: their own keys in full with what the team lets them do, the others masked.</summary>
public sealed class MyKeysTests : PortalUiContext
{
    private static readonly Caller Member = new(CallerKind.PortalUser, "user:dev@example.com", key: null, "u-dev", isProxyAdmin: false,
        new Dictionary<string, string> { ["t1"] = TeamRole.User });

    private static readonly VirtualKey Own = new()
    {
        Token = "own-hash", KeyName = "sk-...mine", KeyAlias = "my-laptop", TeamId = "t1", UserId = "u-dev", MaxBudget = 12.5, Models = ["team-gpt"],
    };

    /// <summary>A colleague's key as the core hands it to a member (<see cref="KeyVisibility.Masked"/>).</summary>
    private static readonly VirtualKey Colleagues = KeyVisibility.Masked(new()
    {
        Token = "their-hash", KeyName = "sk-...them", KeyAlias = "colleague-ci", TeamId = "t1", UserId = "u-other", MaxBudget = 42.5, Models = ["secret-model"],
    });

    private IRenderedComponent<MyKeys> Render(IReadOnlyList<string> permissions, params VirtualKey[] keys)
    {
        RenderProviders();
        return Ui.Render<MyKeys>(p => p.Add(c => c.TeamId, "t1").Add(c => c.Keys, keys).Add(c => c.Caller, Member).Add(c => c.Permissions, permissions));
    }

    [Fact]
    public void OwnKeyInFull_ColleaguesMasked()
    {
        var tab = Render(TeamMemberPermissions.SelfService, Own, Colleagues);

        Assert.Equal("sk-...mine", tab.Find("[data-testid=my-keys] [data-testid=my-key-name]").TextContent);
        Assert.Contains("team-gpt", tab.Find("[data-testid=my-keys]").TextContent);
        Assert.Contains("12.50", tab.Find("[data-testid=my-keys]").TextContent);
        var others = tab.Find("[data-testid=other-keys]").TextContent;
        Assert.Contains("colleague-ci", others);
        Assert.DoesNotContain("42.50", tab.Markup);
        Assert.DoesNotContain("secret-model", tab.Markup);
    }

    [Fact]
    public void SelfService_OffersCreateBlockRegenerateDelete()
    {
        var tab = Render(TeamMemberPermissions.SelfService, Own);

        Assert.Single(tab.FindAll("[data-testid=my-keys-create]"));
        Assert.Single(tab.FindAll("[data-testid=my-key-block]"));
        Assert.Single(tab.FindAll("[data-testid=my-key-regenerate]"));
        Assert.Single(tab.FindAll("[data-testid=my-key-delete]"));
    }

    [Fact]
    public void SelfServiceOff_OffersNoCreate_AndSaysWhoCreatesKeys()
    {
        var tab = Render(TeamMemberPermissions.ReadOnly);

        Assert.Empty(tab.FindAll("[data-testid=my-keys-create]"));
        Assert.Contains("A team admin creates keys for this team", tab.Markup);
    }

    [Fact]
    public void SelfServiceOff_LeavesTheMembersOwnKeyAsTheAdminMadeIt()
    {
        var tab = Render(TeamMemberPermissions.ReadOnly, Own);

        Assert.Equal("sk-...mine", tab.Find("[data-testid=my-key-name]").TextContent);
        Assert.Empty(tab.FindAll("[data-testid=my-key-block]"));
        Assert.Empty(tab.FindAll("[data-testid=my-key-regenerate]"));
        Assert.Empty(tab.FindAll("[data-testid=my-key-delete]"));
    }
}
