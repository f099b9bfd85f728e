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
    /// The folder whose appsettings.json operators edit: <c>--contentRoot</c> if given; else, inside a source checkout,
    /// the repository root (the folder with Portal.sln), so <c>dotnet run --project src/Portal</c> reads the root file
    /// and not a copy; else the current directory.
    /// </summary>
    public static string ContentRoot(string[] args)
    {
        var given = new ConfigurationBuilder().AddCommandLine(args).Build()["contentRoot"];
        if (!string.IsNullOrEmpty(given))
        {
            return Path.GetFullPath(given);
        }
        for (var dir = new DirectoryInfo(Directory.GetCurrentDirectory()); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Portal.sln")))
            {
                return dir.FullName;
            }
        }
        return Directory.GetCurrentDirectory();
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

        // These categories log full URLs, and a URL may carry a key (/key/info?key=sk-..., /key/sk-.../regenerate).
        // Kept at Warning whatever the configured default, so raising the log level never writes a key.
        builder.Logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.AspNetCore.Routing", LogLevel.Warning);
        // YARP logs every forward at Information and every upstream failure with a stack trace; LlmProxy logs one line per failure instead.
        builder.Logging.AddFilter("Yarp", LogLevel.Error);

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
}

/// <summary>Configuration warnings collected before logging exists, logged once the app is built.</summary>
public sealed record StartupWarnings(IReadOnlyList<string> Messages);
