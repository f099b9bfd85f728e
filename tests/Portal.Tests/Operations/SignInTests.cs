using System.Net;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using Portal.Tests.Infrastructure;
using Proxy.Core.Persistence;
using Proxy.Core.Users;

namespace Portal.Tests.Operations;

/// <summary>Portal sign-in behind a reverse proxy, and its writes in line with every other write.</summary>
public sealed class SignInTests
{
    [Fact]
    public async Task ASignInsWrites_WaitTheirTurnOnTheWriteGate()
    {
        await using var gateway = new GatewayFactory();
        using var forms = new PortalForms(gateway.BaseAddress);
        var gate = gateway.Services.GetRequiredService<WriteGate>();

        await gate.WaitAsync();
        Task<HttpResponseMessage> signIn;
        try
        {
            // A wrong password writes the failed attempt (towards lockout).
            signIn = forms.SignInAsync(GatewayFactory.AdminEmail, "Wrong-Password-1");
            await Task.Delay(1500);
            Assert.False(signIn.IsCompleted, "the sign-in wrote while another write held the gate");
        }
        finally
        {
            gate.Release();
        }
        var answer = await (await signIn).Content.ReadAsStringAsync();

        Assert.Contains("Unknown email or wrong password", answer);
        await using var scope = gateway.Services.CreateAsyncScope();
        var admin = await scope.ServiceProvider.GetRequiredService<UserManager<PortalUser>>().FindByEmailAsync(GatewayFactory.AdminEmail);
        Assert.Equal(1, admin!.AccessFailedCount);
    }

    [Theory]
    [InlineData(true, true)]
    [InlineData(false, false)]
    public async Task BehindATlsProxy_TheSignInCookieIsSecure_OnlyWhenForwardedHeadersAreOn(bool enabled, bool secure)
    {
        await using var gateway = new GatewayFactory { Settings = new() { ["ForwardedHeaders:Enabled"] = enabled ? "true" : "false" } };
        using var forms = new PortalForms(gateway.BaseAddress);
        // The test talks to 127.0.0.1, a known proxy by default: what a reverse proxy on the same host sends.
        forms.Headers["X-Forwarded-Proto"] = "https";
        forms.Headers["X-Forwarded-For"] = "203.0.113.7";

        var response = await forms.SignInAsync(GatewayFactory.AdminEmail, GatewayFactory.AdminPassword);

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var cookie = Assert.Single(response.Headers.GetValues("Set-Cookie"), c => c.StartsWith(".AspNetCore.Identity.Application=", StringComparison.Ordinal));
        Assert.Equal(secure, cookie.Contains("; secure", StringComparison.OrdinalIgnoreCase));
    }
}
