using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;
using Portal.Configuration;
using Proxy.Core;
using Proxy.Core.Users;

namespace Portal.Components.Account;

/// <summary>
/// Optional portal sign-in through the company's OpenID Connect provider (<c>Portal:Sso</c>). The provider's answer
/// lands in Identity's external cookie; <c>/Account/Sso/Done</c> then signs in the account with the same verified
/// email, creating it (with no team) on first sign-in. Passwords keep working beside it.
/// </summary>
public static class SingleSignOn
{
    public const string Scheme = OpenIdConnectDefaults.AuthenticationScheme;

    public static AuthenticationBuilder AddSingleSignOn(this AuthenticationBuilder authentication, IConfiguration configuration)
    {
        var sso = configuration.GetSection(SsoOptions.Section).Get<SsoOptions>();
        if (sso is null || (string.IsNullOrEmpty(sso.Authority) && string.IsNullOrEmpty(sso.ClientId)))
        {
            return authentication;
        }
        if (!sso.Enabled)
        {
            throw new InvalidOperationException("Portal:Sso needs both Authority and ClientId (and usually ClientSecret). Set the missing one, or remove both to turn single sign-on off.");
        }
        return authentication.AddOpenIdConnect(Scheme, sso.DisplayName, options =>
        {
            options.Authority = sso.Authority;
            options.ClientId = sso.ClientId;
            options.ClientSecret = sso.ClientSecret;
            options.ResponseType = "code";
            options.UsePkce = true;
            options.RequireHttpsMetadata = sso.RequireHttpsMetadata;
            options.SignInScheme = IdentityConstants.ExternalScheme;
            options.CallbackPath = "/signin-oidc";
            options.SignedOutCallbackPath = "/signout-callback-oidc";
            // The claims as the provider names them (email, email_verified, groups), not WS-Federation's URIs.
            options.MapInboundClaims = false;
            options.GetClaimsFromUserInfoEndpoint = sso.GetClaimsFromUserInfoEndpoint;
            options.SaveTokens = false;
            options.Scope.Clear();
            foreach (var scope in sso.Scopes)
            {
                options.Scope.Add(scope);
            }
            options.Events.OnRemoteFailure = context =>
            {
                // The provider said no (or the user cancelled): back to the sign-in page with a message, never a 500.
                context.Response.Redirect("/Account/Login?sso_error=" + Uri.EscapeDataString("Single sign-on failed. Try again, or sign in with your password."));
                context.HandleResponse();
                return Task.CompletedTask;
            };
        });
    }

    public static WebApplication MapSingleSignOn(this WebApplication app)
    {
        app.MapGet("/Account/Sso", (string? returnUrl, IOptions<SsoOptions> options) =>
            options.Value.Enabled
                ? Results.Challenge(new AuthenticationProperties { RedirectUri = "/Account/Sso/Done?returnUrl=" + Uri.EscapeDataString(LocalOrRoot(returnUrl)) }, [Scheme])
                : Results.Redirect("/Account/Login")).ExcludeFromDescription();
        app.MapGet("/Account/Sso/Done", FinishAsync).ExcludeFromDescription();
        return app;
    }

    private static async Task<IResult> FinishAsync(HttpContext http, string? returnUrl, UserService users, SignInManager<PortalUser> signIn,
        IOptions<SsoOptions> sso, IOptions<PortalOptions> portal, ILoggerFactory logs)
    {
        var external = await http.AuthenticateAsync(IdentityConstants.ExternalScheme);
        await http.SignOutAsync(IdentityConstants.ExternalScheme);
        if (!external.Succeeded || external.Principal is not { } principal)
        {
            return Refuse("Single sign-on did not complete. Try again.");
        }
        var email = principal.FindFirstValue("email");
        if (string.IsNullOrEmpty(email))
        {
            return Refuse("Your identity provider did not send an email address, so no portal account can be matched.");
        }
        if (sso.Value.RequireVerifiedEmail && !string.Equals(principal.FindFirstValue("email_verified"), "true", StringComparison.OrdinalIgnoreCase))
        {
            return Refuse($"Your identity provider has not verified {email}, so it cannot sign you in to the account with that email.");
        }
        bool? proxyAdmin = string.IsNullOrEmpty(sso.Value.AdminGroup)
            ? null
            : principal.FindAll(sso.Value.GroupClaim).Any(c => string.Equals(c.Value, sso.Value.AdminGroup, StringComparison.Ordinal));
        PortalUser user;
        try
        {
            user = await users.SignedOnAsync(email, proxyAdmin, portal.Value.AdminEmail, http.RequestAborted);
        }
        catch (ProxyError e)
        {
            return Refuse(e.Message);
        }
        if (user.Disabled)
        {
            return Refuse("This account is disabled. Ask a proxy admin to enable it.");
        }
        await signIn.SignInAsync(user, isPersistent: false, authenticationMethod: Scheme);
        logs.CreateLogger("Portal.SingleSignOn").LogInformation("Signed in {UserId} through single sign-on.", user.Id);
        return Results.LocalRedirect(LocalOrRoot(returnUrl));
    }

    private static IResult Refuse(string message) => Results.Redirect("/Account/Login?sso_error=" + Uri.EscapeDataString(message));

    private static string LocalOrRoot(string? url) =>
        !string.IsNullOrEmpty(url) && url.StartsWith('/') && !url.StartsWith("//", StringComparison.Ordinal) && !url.StartsWith("/\\", StringComparison.Ordinal) ? url : "/";
}

/// <summary>The <c>Portal:Sso</c> section: OpenID Connect sign-in for the portal.</summary>
public sealed class SsoOptions
{
    public const string Section = "Portal:Sso";

    /// <summary>The provider's issuer URL (its /.well-known/openid-configuration is read from there).</summary>
    public string? Authority { get; set; }
    public string? ClientId { get; set; }
    public string? ClientSecret { get; set; }

    /// <summary>The sign-in button's text: "Sign in with {DisplayName}".</summary>
    public string DisplayName { get; set; } = "single sign-on";

    public List<string> Scopes { get; set; } = ["openid", "profile", "email"];

    /// <summary>Only a provider that says it verified the email (<c>email_verified</c>) may sign in to the account with that email.</summary>
    public bool RequireVerifiedEmail { get; set; } = true;

    /// <summary>Members of this IdP group are proxy admins, and others are not (the bootstrap admin aside). Empty: the portal decides.</summary>
    public string? AdminGroup { get; set; }

    /// <summary>The claim that lists the user's groups.</summary>
    public string GroupClaim { get; set; } = "groups";

    public bool RequireHttpsMetadata { get; set; } = true;

    /// <summary>Also read claims from the provider's userinfo endpoint (for providers that put email there only).</summary>
    public bool GetClaimsFromUserInfoEndpoint { get; set; }

    public bool Enabled => !string.IsNullOrEmpty(Authority) && !string.IsNullOrEmpty(ClientId);
}
