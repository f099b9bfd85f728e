using System.Security.Claims;
using Bunit;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using Portal.Components.Pages;
using Proxy.Core.Access;
using Proxy.Core.Persistence;
using Proxy.Core.Routing;
using Proxy.Core.Teams;
using Proxy.Core.Users;

namespace Portal.Tests.Components;

/// <summary>
/// The new team dialog creates the team itself: a refusal stays in the dialog on the field it concerns, an existing
/// account named as first admin joins as admin (no invite link needed), and nothing is created twice.
/// </summary>
public sealed class TeamDialogTests : PortalUiContext
{
    /// <summary>Invite links are Identity user tokens: the dialog needs Identity's user manager with its token providers, as the host has.</summary>
    public TeamDialogTests()
    {
        Ui.Services.AddLogging();
        Ui.Services.AddDataProtection();
        Ui.Services.AddIdentityCore<PortalUser>().AddEntityFrameworkStores<PortalDb>().AddUserStore<PortalUserStore>().AddDefaultTokenProviders();
    }

    /// <summary>The proxy admin signed in, an existing team "taken", and an account ada@example.com with a password.</summary>
    private async Task SeedAsync()
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
            db.Users.Add(new PortalUser
            {
                Id = "ada", Email = "ada@example.com", NormalizedEmail = "ADA@EXAMPLE.COM", UserName = "ada@example.com", NormalizedUserName = "ADA@EXAMPLE.COM",
                PasswordHash = "set", SecurityStamp = Guid.NewGuid().ToString("N"), CreatedAt = DateTime.UtcNow,
            });
            await db.SaveChangesAsync();
        }
        Auth.SetClaims(new Claim(ClaimTypes.NameIdentifier, "ui-admin"));
        await using (var writes = Ui.Services.CreateAsyncScope())
        {
            await writes.ServiceProvider.GetRequiredService<TeamService>().CreateAsync(Caller.MasterKey, new TeamInput { TeamAlias = "Taken", TeamId = "taken" });
        }
        await Ui.Services.GetRequiredService<RouteTable>().RefreshAsync();
    }

    private async Task<(IRenderedComponent<MudDialogProvider> Provider, IDialogReference Dialog)> OpenAsync()
    {
        var provider = RenderProviders();
        var dialogs = Ui.Services.GetRequiredService<IDialogService>();
        return (provider, await provider.InvokeAsync(() => dialogs.ShowAsync<TeamDialog>("New team")));
    }

    /// <summary>The team name updates as it is typed (oninput); the other fields on change.</summary>
    private static async Task FillAsync(IRenderedComponent<MudDialogProvider> provider, string selector, string value)
    {
        if (selector == "#team-alias")
        {
            await provider.Find(selector).InputAsync(new ChangeEventArgs { Value = value });
        }
        else
        {
            await provider.Find(selector).ChangeAsync(new ChangeEventArgs { Value = value });
        }
    }

    private async Task<int> TeamCountAsync()
    {
        await using var scope = Ui.Services.CreateAsyncScope();
        return scope.ServiceProvider.GetRequiredService<PortalDb>().Teams.Count();
    }

    [Fact]
    public async Task ATakenTeamId_IsRefusedOnItsField_AndTheDialogStaysOpen()
    {
        await SeedAsync();
        var (provider, dialog) = await OpenAsync();

        await FillAsync(provider, "#team-alias", "Nordics");
        await FillAsync(provider, "#team-id", "taken");
        await provider.Find("form#team-form").SubmitAsync();

        provider.WaitForAssertion(() => Assert.Contains("Team id=taken already exists.", provider.Find("#team-id").ParentElement!.ParentElement!.ParentElement!.TextContent));
        Assert.False(dialog.Result.IsCompleted);
        Assert.Equal(1, await TeamCountAsync());
        Assert.Equal("Nordics", provider.Find("#team-alias").GetAttribute("value"));
    }

    [Fact]
    public async Task AnExistingAccount_JoinsAsAdmin_WithoutAnInviteLink()
    {
        await SeedAsync();
        var (provider, dialog) = await OpenAsync();

        await FillAsync(provider, "#team-alias", "Nordics");
        await FillAsync(provider, "#team-admin-email", "ada@example.com");
        await provider.Find("form#team-form").SubmitAsync();

        var result = await dialog.Result.WaitAsync(TimeSpan.FromSeconds(5));
        var view = Assert.IsType<TeamView>(result!.Data);
        Assert.Equal("Nordics", view.Team.TeamAlias);
        var admin = Assert.Single(view.Team.Members);
        Assert.Equal(("ada", TeamRole.Admin), (admin.UserId, admin.Role));
        Assert.Empty(provider.FindAll("[data-testid=invite-link]"));
    }

    [Fact]
    public async Task ANewAddress_GetsAnAccountAndAnInviteLink_ShownInThePlaceOfTheForm()
    {
        await SeedAsync();
        var (provider, dialog) = await OpenAsync();

        await FillAsync(provider, "#team-alias", "Nordics");
        await FillAsync(provider, "#team-admin-email", "lena@example.com");
        await provider.Find("form#team-form").SubmitAsync();

        provider.WaitForAssertion(() => Assert.Contains("/Account/Invite?user=", provider.Find("[data-testid=invite-link]").TextContent));
        Assert.Contains("Team Nordics created, with lena@example.com as its admin.", provider.Find("[data-testid=team-created]").TextContent);
        Assert.Empty(provider.FindAll("form#team-form"));
        Assert.False(dialog.Result.IsCompleted);
        await provider.Find("[data-testid=invite-done]").ClickAsync(new Microsoft.AspNetCore.Components.Web.MouseEventArgs());
        var view = Assert.IsType<TeamView>((await dialog.Result.WaitAsync(TimeSpan.FromSeconds(5)))!.Data);
        Assert.Equal("lena@example.com", Assert.Single(view.Team.Members).User!.Email);
    }
}
