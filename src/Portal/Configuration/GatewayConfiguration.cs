using System.Net;
using Microsoft.AspNetCore.HttpOverrides;
using Proxy.Core;
using Proxy.Core.Persistence;

namespace Portal.Configuration;

/// <summary>
/// Reads and checks the settings operators edit (the repository's <c>appsettings.json</c>, environment variables,
/// command line). Development gets documented defaults with a loud warning; anywhere else a missing secret stops
/// start-up with a message that names the setting.
/// </summary>
public static class GatewayConfiguration
{
    public const string DevMasterKey = "sk-1234";
    public const string DevEncryptionKey = "dev-only-encryption-key-do-not-use-in-production";
    public const string DevAdminEmail = "admin@example.com";
    public const string DevAdminPassword = "ChangeMe-123!";
    public const string DefaultUrls = "http://0.0.0.0:4000";

    /// <summary>
    /// The folder whose appsettings.json operators edit: <c>--contentRoot</c> if given; else, inside a source checkout
    /// (found from the current directory or from the running build output), the repository root (the folder with
    /// Portal.sln), so <c>dotnet run --project src/Portal</c> reads the root file and not a copy; else the folder the
    /// gateway was published to, whatever the current directory (a systemd unit or a container need not cd there).
    /// </summary>
    public static string ContentRoot(string[] args)
    {
        var given = new ConfigurationBuilder().AddCommandLine(args).Build()["contentRoot"];
        if (!string.IsNullOrEmpty(given))
        {
            return Path.GetFullPath(given);
        }
        return Checkout(Directory.GetCurrentDirectory()) ?? Checkout(AppContext.BaseDirectory) ?? AppContext.BaseDirectory;

        static string? Checkout(string from)
        {
            for (var dir = new DirectoryInfo(from); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "Portal.sln")))
                {
                    return dir.FullName;
                }
            }
            return null;
        }
    }

    public static WebApplicationBuilder AddGatewayConfiguration(this WebApplicationBuilder builder)
    {
        var config = builder.Configuration;
        var isDev = builder.Environment.IsDevelopment();
        var warnings = new List<string>();

        // LiteLLM's variable, for drop-in migration; Proxy:MasterKey wins when both are set.
        if (string.IsNullOrEmpty(config["Proxy:MasterKey"]) && Environment.GetEnvironmentVariable("LITELLM_MASTER_KEY") is { Length: > 0 } litellm)
        {
            config["Proxy:MasterKey"] = litellm;
        }
        RequireOrDefault(config, "Proxy:MasterKey", "Proxy__MasterKey (or LITELLM_MASTER_KEY)", DevMasterKey, isDev, warnings);
        RequireOrDefault(config, "Proxy:EncryptionKey", "Proxy__EncryptionKey", DevEncryptionKey, isDev, warnings);
        if (isDev && string.IsNullOrEmpty(config["Portal:AdminEmail"]))
        {
            config["Portal:AdminEmail"] = DevAdminEmail;
            if (string.IsNullOrEmpty(config["Portal:AdminPassword"]))
            {
                config["Portal:AdminPassword"] = DevAdminPassword;
            }
            warnings.Add($"Portal:AdminEmail/AdminPassword not set: using the Development admin {DevAdminEmail} / {DevAdminPassword}.");
        }
        config["ConnectionStrings:Portal"] = Database.AnchorSqlitePath(
            config["ConnectionStrings:Portal"] is { Length: > 0 } cs ? cs : Database.DefaultConnectionString,
            builder.Environment.ContentRootPath);
        if (string.IsNullOrEmpty(config["urls"]) && string.IsNullOrEmpty(config["ASPNETCORE_URLS"]))
        {
            builder.WebHost.UseUrls(DefaultUrls);
        }

        // These categories log full URLs, and a URL may carry a key (/key/info?key=sk-..., /key/sk-.../regenerate):
        // raising the log level must never write a key. Hosting's is off altogether: while it is on at any level,
        // every request starts an Activity and a log scope (its cost: docs/performance.md) only to correlate
        // lines it never writes; the call id scopes every line instead. A start-up failure still ends the process with
        // its exception.
        builder.Logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.None);
        builder.Logging.AddFilter("Microsoft.AspNetCore.Routing", LogLevel.Warning);
        // YARP logs every forward at Information and every upstream failure with a stack trace; LlmProxy logs one line per failure instead.
        builder.Logging.AddFilter("Yarp", LogLevel.Error);

        // Outside Development the host reads the static web assets manifest (MudBlazor's and Blazor's files, which live
        // in the NuGet cache and the build's obj folder) only when asked. A publish folder has no manifest: its
        // wwwroot holds the files themselves. Running the build output (dotnet run, dotnet bin/.../Portal.dll) has one.
        if (!isDev && File.Exists(Path.Combine(AppContext.BaseDirectory, $"{builder.Environment.ApplicationName}.staticwebassets.runtime.json")))
        {
            builder.WebHost.UseStaticWebAssets();
        }

        builder.Services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.PropertyNamingPolicy = Endpoints.ApiJson.Naming;
            // Numbers are numbers: the API document then says so too.
            o.SerializerOptions.NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.Strict;
        });
        builder.Services.AddOptions<ForwardedHeadersSettings>().BindConfiguration(ForwardedHeadersSettings.Section);
        builder.Services.AddOptions<ProxyOptions>().BindConfiguration(ProxyOptions.Section);
        builder.Services.AddOptions<PortalOptions>().BindConfiguration(PortalOptions.Section);
        builder.Services.AddSingleton(new StartupWarnings(warnings));
        return builder;
    }

    private static void RequireOrDefault(IConfiguration config, string key, string envName, string devDefault, bool isDev, List<string> warnings)
    {
        if (!string.IsNullOrEmpty(config[key]))
        {
            return;
        }
        if (!isDev)
        {
            throw new InvalidOperationException(
                $"{key} is not set. Set it in appsettings.json or the environment variable {envName} before starting the gateway outside Development.");
        }
        config[key] = devDefault;
        warnings.Add($"{key} is not set: using the Development default '{devDefault}'. Never run like this outside a developer machine.");
    }
}

/// <summary>The <c>Portal</c> configuration section.</summary>
public sealed class PortalOptions
{
    public const string Section = "Portal";

    /// <summary>The first proxy-admin portal account, created at start-up if absent.</summary>
    public string? AdminEmail { get; set; }
    public string? AdminPassword { get; set; }

    /// <summary>How long an invite link stays valid (also read directly as <c>Portal:InviteLifetime</c>).</summary>
    public TimeSpan InviteLifetime { get; set; } = TimeSpan.FromDays(3);
}

/// <summary>
/// The <c>ForwardedHeaders</c> section: behind a reverse proxy that terminates TLS, honour its X-Forwarded-For and
/// X-Forwarded-Proto (so sign-in cookies are Secure and SSO redirects say https). Off by default; when on, only the
/// listed proxies and networks are believed (loopback when none are listed).
/// </summary>
public sealed class ForwardedHeadersSettings
{
    public const string Section = "ForwardedHeaders";

    public bool Enabled { get; set; }
    public List<string> KnownProxies { get; set; } = [];

    /// <summary>CIDR, e.g. 10.0.0.0/8.</summary>
    public List<string> KnownNetworks { get; set; } = [];

    /// <summary>Also X-Forwarded-Host (only when the proxy sets it and strips what clients send).</summary>
    public bool ForwardHost { get; set; }
}

/// <summary>Configuration warnings collected before logging exists, logged once the app is built.</summary>
public sealed record StartupWarnings(IReadOnlyList<string> Messages);

public static class ForwardedHeadersSetup
{
    public static WebApplication UseConfiguredForwardedHeaders(this WebApplication app)
    {
        var settings = app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<ForwardedHeadersSettings>>().Value;
        if (!settings.Enabled)
        {
            return app;
        }
        var options = new ForwardedHeadersOptions
        {
            ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto | (settings.ForwardHost ? ForwardedHeaders.XForwardedHost : 0),
        };
        foreach (var proxy in settings.KnownProxies)
        {
            options.KnownProxies.Add(IPAddress.TryParse(proxy, out var address) ? address
                : throw new InvalidOperationException($"ForwardedHeaders:KnownProxies: '{proxy}' is not an IP address."));
        }
        foreach (var network in settings.KnownNetworks)
        {
            options.KnownIPNetworks.Add(System.Net.IPNetwork.TryParse(network, out var parsed) ? parsed
                : throw new InvalidOperationException($"ForwardedHeaders:KnownNetworks: '{network}' is not a CIDR network such as 10.0.0.0/8."));
        }
        app.UseForwardedHeaders(options);
        return app;
    }
}
