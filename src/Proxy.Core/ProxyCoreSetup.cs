using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Proxy.Core.Access;
using Proxy.Core.Forwarding;
using Proxy.Core.Usage;
using Proxy.Core.Audit;
using Proxy.Core.Keys;
using Proxy.Core.Models;
using Proxy.Core.Persistence;
using Proxy.Core.Routing;
using Proxy.Core.Secrets;
using Proxy.Core.Spend;
using Proxy.Core.Teams;

namespace Proxy.Core;

public static class ProxyCoreSetup
{
    /// <summary>Registers the core: persistence, secrets, the route table and the management services.</summary>
    public static IServiceCollection AddProxyCore(this IServiceCollection services, string connectionString)
    {
        services.TryAddTimeProvider();
        services.AddPortalDb(connectionString);
        services.AddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<ProxyOptions>>().Value;
            return new SecretBox(options.EncryptionKey!, options.PreviousEncryptionKeys);
        });
        services.AddSingleton<SpendLedger>();
        services.AddSingleton<PriceTable>();
        services.AddSingleton<SpendControl>();
        services.AddSingleton<Router>();
        services.AddSingleton<DeploymentStates>();
        services.AddOptions<RoutingOptions>().BindConfiguration(RoutingOptions.Section);
        services.AddSingleton<SpendSync>();
        services.AddHostedService(sp => sp.GetRequiredService<SpendSync>());
        services.AddSingleton<RouteTable>();
        services.AddSingleton<CallerResolver>();
        services.AddSingleton<ModelCatalog>();
        services.AddHostedService<RouteSync>();
        services.AddHttpForwarder();
        services.AddSingleton<UpstreamClient>();
        services.AddSingleton<UpstreamPolicy>();
        services.AddSingleton<Providers.Vertex.VertexTokens>();
        services.AddOptions<UpstreamOptions>().BindConfiguration(UpstreamOptions.Section);
        services.AddMetrics();
        services.AddSingleton<CallMetrics>();
        services.AddSingleton<CallAccounting>();
        services.AddSingleton<Attempt>();
        services.AddSingleton<CallLoop>();
        services.AddSingleton<LlmProxy>();
        services.AddSingleton<ConnectionProbe>();
        services.AddOptions<Alerts.AlertOptions>().BindConfiguration(Alerts.AlertOptions.Section)
            .Validate(o => o.Problem() is null, "Proxy:Alerts is not valid: WebhookUrl must be an absolute http(s) URL, Attempts between 1 and 10, RetryDelay not negative, Timeout positive.").ValidateOnStart();
        // Before the usage writer: hosted services stop in reverse order, so the writer's last batch can still queue its alerts.
        services.AddSingleton<Alerts.AlertSender>();
        services.AddHostedService(sp => sp.GetRequiredService<Alerts.AlertSender>());
        services.AddOptions<UsageOptions>().BindConfiguration(UsageOptions.Section)
            .Validate(o => o.Problem() is null, "Proxy:Usage is not valid: Proxy:Usage:WriteInterval must be between 00:00:00.01 and 00:01:00, "
                + "Proxy:Usage:RetentionDays and DailyRetentionDays whole numbers of days from 0 (keep forever) to 36500.").ValidateOnStart();
        services.AddSingleton<UsageWriter>();
        services.AddHostedService(sp => sp.GetRequiredService<UsageWriter>());
        services.AddSingleton<UsageRetention>();
        services.AddHostedService(sp => sp.GetRequiredService<UsageRetention>());
        services.AddScoped<UsageLog>();
        services.AddScoped<Reports.DailyActivity>();
        services.AddScoped<Users.UserService>();
        services.AddScoped<Changes>();
        services.AddSingleton<WriteGate>();
        services.AddScoped<TeamService>();
        services.AddScoped<ModelService>();
        services.AddScoped<KeyService>();
        services.AddScoped<AuditLog>();
        return services;
    }

    private static void TryAddTimeProvider(this IServiceCollection services)
    {
        if (!services.Any(d => d.ServiceType == typeof(TimeProvider)))
        {
            services.AddSingleton(TimeProvider.System);
        }
    }

    /// <summary>
    /// Start-up: migrate, and re-seal provider keys sealed with a previous encryption key.
    /// Fails with a clear message when a stored provider key cannot be opened with the configured keys.
    /// </summary>
    public static async Task PrepareDatabaseAsync(this IServiceProvider services, CancellationToken ct = default)
    {
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PortalDb>();
        await Database.MigrateAsync(db, ct);
        var secrets = scope.ServiceProvider.GetRequiredService<SecretBox>();
        var sealedKeys = await db.Deployments.Where(d => d.ApiKeyCipher != null || d.CloudSecretsCipher != null).ToListAsync(ct);
        var stale = sealedKeys.Where(d => (d.ApiKeyCipher is { } key && secrets.NeedsResealing(key))
            || (d.CloudSecretsCipher is { } cloud && secrets.NeedsResealing(cloud))).ToList();
        foreach (var d in stale)
        {
            d.ApiKeyCipher = d.ApiKeyCipher is null ? null : secrets.Seal(secrets.Open(d.ApiKeyCipher));
            d.CloudSecretsCipher = d.CloudSecretsCipher is null ? null : secrets.Seal(secrets.Open(d.CloudSecretsCipher));
        }
        if (stale.Count > 0)
        {
            await db.SaveChangesAsync(ct);
            scope.ServiceProvider.GetRequiredService<ILoggerFactory>().CreateLogger("Proxy.Core.Secrets")
                .LogWarning("Re-sealed {Count} provider keys with the current Proxy:EncryptionKey.", stale.Count);
        }
    }
}

/// <summary>Picks up changes made by other instances (or processes) sharing the database, within <see cref="ProxyOptions.SyncInterval"/>.</summary>
internal sealed partial class RouteSync(RouteTable routes, IOptions<ProxyOptions> options, ILogger<RouteSync> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.SyncInterval);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await timer.WaitForNextTickAsync(stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            try
            {
                await routes.RefreshAsync(stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogSyncFailed(e.GetType().Name);
            }
        }
    }

    [LoggerMessage(10, LogLevel.Warning, "Route snapshot sync failed ({Error}); serving the previous snapshot")]
    private partial void LogSyncFailed(string error);
}
