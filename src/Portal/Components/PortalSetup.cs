using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;
using MudBlazor.Services;
using Portal.Components.Account;
using Portal.Configuration;
using Proxy.Core.Persistence;
using Proxy.Core.Secrets;
using Proxy.Core.Users;

namespace Portal.Components;

/// <summary>The Blazor Server portal with ASP.NET Core Identity sign-in.</summary>
public static class PortalSetup
{
    public static WebApplicationBuilder AddPortal(this WebApplicationBuilder builder)
    {
        builder.Services.AddRazorComponents().AddInteractiveServerComponents();
        builder.Services.AddMudServices();
        builder.Services.AddCascadingAuthenticationState();
        builder.Services.AddScoped<IdentityRedirectManager>();
        builder.Services.AddScoped<AuthenticationStateProvider, IdentityRevalidatingAuthenticationStateProvider>();
        builder.Services.AddScoped<PortalSession>();
        // The playground calls this gateway over HTTP; a long answer may stream for minutes.
        builder.Services.AddHttpClient<Pages.Teams.PlaygroundChat>(c => c.Timeout = TimeSpan.FromMinutes(10))
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { UseProxy = false });

        builder.Services.AddAuthentication(options =>
            {
                options.DefaultScheme = IdentityConstants.ApplicationScheme;
                options.DefaultSignInScheme = IdentityConstants.ExternalScheme;
            })
            .AddIdentityCookies();
        builder.Services.AddAuthentication().AddSingleSignOn(builder.Configuration);
        builder.Services.AddOptions<SsoOptions>().BindConfiguration(SsoOptions.Section);
        builder.Services.AddSharedKeyRing();
        // Invite links are Identity user tokens: this is how long one stays valid.
        builder.Services.Configure<DataProtectionTokenProviderOptions>(o =>
            o.TokenLifespan = builder.Configuration.GetValue(PortalOptions.Section + ":InviteLifetime", TimeSpan.FromDays(3)));
        builder.Services.AddAuthorization();
        builder.Services.AddIdentityCore<PortalUser>(options =>
            {
                options.User.RequireUniqueEmail = false;
                options.Password.RequiredLength = 8;
                options.Password.RequireNonAlphanumeric = false;
                options.Lockout.MaxFailedAccessAttempts = 5;
                options.Lockout.DefaultLockoutTimeSpan = TimeSpan.FromMinutes(5);
                options.Lockout.AllowedForNewUsers = true;
            })
            .AddEntityFrameworkStores<PortalDb>()
            .AddUserStore<PortalUserStore>()
            .AddSignInManager()
            .AddDefaultTokenProviders();
        return builder;
    }

    public static WebApplication MapPortal(this WebApplication app)
    {
        app.UseAntiforgery();
        app.MapStaticAssets();
        app.MapRazorComponents<App>().AddInteractiveServerRenderMode();
        app.MapPost("/Account/Logout", async (SignInManager<PortalUser> signIn) =>
        {
            await signIn.SignOutAsync();
            return TypedResults.LocalRedirect("~/Account/Login");
        }).ExcludeFromDescription();
        app.MapSingleSignOn();
        return app;
    }

    /// <summary>Creates the first proxy-admin account from <c>Portal:AdminEmail</c>/<c>AdminPassword</c> if it does not exist.</summary>
    public static async Task EnsureBootstrapAdminAsync(this IServiceProvider services)
    {
        await using var scope = services.CreateAsyncScope();
        var options = scope.ServiceProvider.GetRequiredService<IOptions<PortalOptions>>().Value;
        var log = scope.ServiceProvider.GetRequiredService<ILoggerFactory>().CreateLogger("Portal.Bootstrap");
        if (string.IsNullOrEmpty(options.AdminEmail) || string.IsNullOrEmpty(options.AdminPassword))
        {
            log.LogWarning("Portal:AdminEmail/AdminPassword are not set: no bootstrap admin account. Use the master key, or set them and restart.");
            return;
        }
        var users = scope.ServiceProvider.GetRequiredService<UserManager<PortalUser>>();
        var admin = await users.FindByEmailAsync(options.AdminEmail);
        if (admin is not null)
        {
            if (!admin.IsProxyAdmin)
            {
                admin.IsProxyAdmin = true;
                await users.UpdateAsync(admin);
            }
            return;
        }
        admin = new PortalUser
        {
            UserName = options.AdminEmail,
            Email = options.AdminEmail,
            EmailConfirmed = true,
            IsProxyAdmin = true,
            CreatedAt = DateTime.UtcNow,
        };
        var result = await users.CreateAsync(admin, options.AdminPassword);
        if (!result.Succeeded)
        {
            throw new InvalidOperationException(
                $"Cannot create the bootstrap admin {options.AdminEmail}: {string.Join(" ", result.Errors.Select(e => e.Description))} Fix Portal:AdminPassword.");
        }
        log.LogInformation("Created the bootstrap proxy admin {Email}.", options.AdminEmail);
    }
}
