using System.Net;
using System.Net.Http.Json;
using System.Text;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection;
using Portal.Tests.Infrastructure;
using Proxy.Core;
using Proxy.Core.Access;
using Proxy.Core.Users;

namespace Portal.Tests.Users;

/// <summary>
/// Members added by email get an account without a password; an invite link lets them set one: once, before it
/// expires, and only for such accounts (a team admin cannot take over a colleague's account with one).
/// </summary>
[Trait("Category", "Database")]
public sealed class InviteTests : IAsyncLifetime
{
    private readonly GatewayFactory _gateway = new() { Settings = new() { ["Portal:InviteLifetime"] = "00:00:03" } };
    private string _team = "";

    public async Task InitializeAsync()
    {
        _team = await _gateway.CreateTeamAsync("Invited");
    }

    public Task DisposeAsync() => _gateway.DisposeAsync().AsTask();

    private async Task<string> AddMemberAsync(string email, string role = "user")
    {
        var team = await (await _gateway.Client().PostAsJsonAsync("/team/member_add", new { team_id = _team, member = new { user_email = email, role } })).ReadJsonAsync(HttpStatusCode.OK);
        return team["updated_team"]!["members_with_roles"]!.AsArray().Single(m => m!["user_email"]!.GetValue<string>() == email)!["user_id"]!.GetValue<string>();
    }

    private async Task<T> AsAsync<T>(Caller caller, Func<UserService, Caller, Task<T>> action)
    {
        await using var scope = _gateway.Services.CreateAsyncScope();
        return await action(scope.ServiceProvider.GetRequiredService<UserService>(), caller);
    }

    private Caller UserCaller(string userId) => _gateway.Services.GetRequiredService<CallerResolver>().FromUser(userId);

    private static string Link(string userId, string token) =>
        $"/Account/Invite?user={Uri.EscapeDataString(userId)}&code={WebEncoders.Base64UrlEncode(Encoding.UTF8.GetBytes(token))}";

    private Task<HttpResponseMessage> AcceptAsync(PortalForms forms, string link, string password) =>
        forms.PostFormAsync(link, "invite", new() { ["Input.Password"] = password, ["Input.ConfirmPassword"] = password });

    [Fact]
    public async Task TheInvitedMember_SetsAPassword_IsSignedIn_AndTheLinkIsThenSpent()
    {
        var userId = await AddMemberAsync("newcomer@example.com");
        var (_, token) = await AsAsync(Caller.MasterKey, (u, c) => u.InviteAsync(c, userId));
        using var forms = new PortalForms(_gateway.BaseAddress);

        var accepted = await AcceptAsync(forms, Link(userId, token), "Newcomer-Password-1");

        Assert.Equal(HttpStatusCode.Redirect, accepted.StatusCode);
        Assert.Contains(forms.Cookies.GetAllCookies(), c => c.Name == ".AspNetCore.Identity.Application");
        using var again = new PortalForms(_gateway.BaseAddress);
        Assert.Equal(HttpStatusCode.Redirect, (await again.SignInAsync("newcomer@example.com", "Newcomer-Password-1")).StatusCode);
        using var thief = new PortalForms(_gateway.BaseAddress);
        var reused = await (await AcceptAsync(thief, Link(userId, token), "Thief-Password-1")).Content.ReadAsStringAsync();
        Assert.Contains("invalid, expired or already used", reused);
        using var later = new PortalForms(_gateway.BaseAddress);
        Assert.Equal(HttpStatusCode.OK, (await later.SignInAsync("newcomer@example.com", "Thief-Password-1")).StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, (await later.SignInAsync("newcomer@example.com", "Newcomer-Password-1")).StatusCode);
    }

    [Fact]
    public async Task AnInvite_Expires()
    {
        var userId = await AddMemberAsync("late@example.com");
        var (_, token) = await AsAsync(Caller.MasterKey, (u, c) => u.InviteAsync(c, userId));
        // Real time, not a FakeTimeProvider: invite links are ASP.NET Identity's DataProtectorTokenProvider tokens, whose
        // expiry check reads the system clock (it takes no TimeProvider), so the 3 s lifetime set above must pass.
        await Task.Delay(TimeSpan.FromSeconds(4));
        using var forms = new PortalForms(_gateway.BaseAddress);

        var answer = await (await AcceptAsync(forms, Link(userId, token), "Late-Password-1")).Content.ReadAsStringAsync();

        Assert.Contains("invalid, expired or already used", answer);
        Assert.DoesNotContain(forms.Cookies.GetAllCookies(), c => c.Name == ".AspNetCore.Identity.Application");
    }

    [Fact]
    public async Task AForgedOrMangledCode_IsRefused_WithoutAnError()
    {
        var userId = await AddMemberAsync("target@example.com");
        using var forms = new PortalForms(_gateway.BaseAddress);

        foreach (var link in new[] { Link(userId, "forged-token"), $"/Account/Invite?user={userId}&code=%%%not-base64", "/Account/Invite" })
        {
            var answer = await AcceptAsync(forms, link, "Forged-Password-1");
            Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
            Assert.Contains("invalid, expired or already used", await answer.Content.ReadAsStringAsync());
        }
    }

    [Fact]
    public async Task ATeamAdmin_InvitesTheirTeamsNewMembers_ButNeverAnAccountWithAPassword_OrOutsideTheirTeams()
    {
        var adminId = await AddMemberAsync("lead@example.com", "admin");
        var (_, adminToken) = await AsAsync(Caller.MasterKey, (u, c) => u.InviteAsync(c, adminId));
        using (var forms = new PortalForms(_gateway.BaseAddress))
        {
            await AcceptAsync(forms, Link(adminId, adminToken), "Lead-Password-1");
        }
        var lead = UserCaller(adminId);
        var memberId = await AddMemberAsync("member@example.com");
        var otherTeam = await _gateway.CreateTeamAsync("Elsewhere");
        var outsider = (await (await _gateway.Client().PostAsJsonAsync("/team/member_add", new { team_id = otherTeam, member = new { user_email = "outsider@example.com", role = "user" } }))
            .ReadJsonAsync(HttpStatusCode.OK))["updated_team"]!["members_with_roles"]![0]!["user_id"]!.GetValue<string>();

        var (invited, _) = await AsAsync(lead, (u, c) => u.InviteAsync(c, memberId));
        Assert.Equal("member@example.com", invited.Email);
        var hasPassword = await Assert.ThrowsAsync<ProxyError>(() => AsAsync(lead, (u, c) => u.InviteAsync(c, adminId)));
        Assert.Equal(400, hasPassword.Status);
        var notTheirs = await Assert.ThrowsAsync<ProxyError>(() => AsAsync(lead, (u, c) => u.InviteAsync(c, outsider)));
        Assert.Equal(403, notTheirs.Status);
        // Not even the proxy admin makes a link for an account that has a password.
        Assert.Equal(400, (await Assert.ThrowsAsync<ProxyError>(() => AsAsync(Caller.MasterKey, (u, c) => u.InviteAsync(c, adminId)))).Status);
    }
}
