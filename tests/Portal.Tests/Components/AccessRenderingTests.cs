using Bunit;
using Portal.Components.Pages.Teams;
using Proxy.Core.Keys;
using Proxy.Core.Teams;

namespace Portal.Tests.Components;

/// <summary>What a user may not do is not offered: members see the team, admins get the actions.</summary>
public sealed class AccessRenderingTests : PortalUiContext
{
    private static readonly VirtualKey Key = new() { Token = new string('a', 64), KeyName = "sk-...abcd", KeyAlias = "ci", TeamId = "t1" };

    [Fact]
    public void KeysTab_ForAMember_ListsKeysWithoutActions()
    {
        RenderProviders();

        var tab = Ui.Render<KeysTab>(p => p.Add(t => t.TeamId, "t1").Add(t => t.Keys, [Key]).Add(t => t.CanManage, false));

        Assert.Contains("sk-...abcd", tab.Markup);
        Assert.Empty(tab.FindAll("[data-testid=create-key]"));
        Assert.DoesNotContain("Regenerate", tab.Markup);
        Assert.DoesNotContain("Delete", tab.Markup);
    }

    [Fact]
    public void KeysTab_ForAnAdmin_OffersCreateBlockRegenerateDelete()
    {
        RenderProviders();

        var tab = Ui.Render<KeysTab>(p => p.Add(t => t.TeamId, "t1").Add(t => t.Keys, [Key]).Add(t => t.CanManage, true));

        Assert.Single(tab.FindAll("[data-testid=create-key]"));
        Assert.Contains("Block", tab.Markup);
        Assert.Contains("Regenerate", tab.Markup);
        Assert.Contains("Delete", tab.Markup);
    }

    [Fact]
    public void KeysTab_WithoutKeys_ShowsAnEmptyStateThatSaysWhatToDo()
    {
        RenderProviders();

        var tab = Ui.Render<KeysTab>(p => p.Add(t => t.TeamId, "t1").Add(t => t.Keys, []).Add(t => t.CanManage, false));

        Assert.Contains("No keys yet", tab.Find("[data-testid=empty-state]").TextContent);
        Assert.Contains("A team admin creates the team's keys.", tab.Markup);
    }

    [Fact]
    public void MembersTab_OffersTheAddFormOnlyToAdmins()
    {
        RenderProviders();
        var team = new Team { TeamId = "t1", Members = [new TeamMembership { TeamId = "t1", UserId = "u1", Role = TeamRole.Admin }] };

        var member = Ui.Render<MembersTab>(p => p.Add(t => t.Team, team).Add(t => t.CanManage, false));
        var admin = Ui.Render<MembersTab>(p => p.Add(t => t.Team, team).Add(t => t.CanManage, true));

        Assert.Empty(member.FindAll("[data-testid=add-member]"));
        Assert.DoesNotContain("Remove", member.Markup);
        Assert.Single(admin.FindAll("[data-testid=add-member]"));
        Assert.Contains("Remove", admin.Markup);
    }

    [Fact]
    public void AliasTab_ShowsPublicToInternal_WithCopyButtons()
    {
        RenderProviders();
        var aliases = new Dictionary<string, string> { ["my-team-model"] = "model_name_t1_0000" };

        var tab = Ui.Render<AliasTab>(p => p.Add(t => t.Aliases, aliases));

        Assert.Equal("my-team-model", tab.Find("[data-testid=alias-public]").TextContent);
        Assert.Equal("model_name_t1_0000", tab.Find("[data-testid=alias-internal]").TextContent);
        Assert.Equal(2, tab.FindAll("button[aria-label^=Copy]").Count);
    }
}
