using System.Collections.Frozen;
using System.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Proxy.Core.Models;
using Proxy.Core.Persistence;
using Proxy.Core.Secrets;

namespace Proxy.Core.Routing;

/// <summary>
/// Holds the current <see cref="RouteSnapshot"/>. A refresh rebuilds it from the database and swaps it in one
/// reference write; readers never lock. Refreshes are serialised and skipped when the data has not changed.
/// </summary>
public sealed partial class RouteTable(IServiceScopeFactory scopes, SecretBox secrets, ILogger<RouteTable> log)
{
    private readonly SemaphoreSlim _refreshing = new(1, 1);
    private RouteSnapshot _current = RouteSnapshot.Empty;

    public RouteSnapshot Current => Volatile.Read(ref _current);

    public async Task RefreshAsync(CancellationToken ct = default)
    {
        await _refreshing.WaitAsync(ct);
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<PortalDb>();
            // One snapshot-isolated read, so keys, teams and models agree with each other and with the version.
            await using var tx = await db.Database.BeginTransactionAsync(IsolationLevel.RepeatableRead, ct);
            var version = await db.RouteDataVersions.AsNoTracking().Select(v => v.Version).SingleAsync(ct);
            if (version == Current.Version)
            {
                return;
            }

            var keys = await db.Keys.AsNoTracking()
                .Select(k => new KeyEntry(k.Token, k.KeyName, k.TeamId, k.UserId, k.Models.ToArray(), k.KeyType, k.ExpiresAt, k.Blocked))
                .ToListAsync(ct);
            var aliases = (await db.Aliases.AsNoTracking().ToListAsync(ct)).ToLookup(a => a.TeamId);
            var teams = (await db.Teams.AsNoTracking().ToListAsync(ct)).Select(t => new TeamEntry(
                t.TeamId, [.. t.Models], t.Blocked,
                aliases[t.TeamId].ToFrozenDictionary(a => a.PublicName, a => a.InternalName, StringComparer.Ordinal)));
            var deployments = (await db.Deployments.AsNoTracking().ToListAsync(ct)).Select(ToEntry);
            var users = await db.Users.AsNoTracking()
                .Select(u => new UserEntry(u.Id, u.Email, u.IsProxyAdmin, u.Disabled)).ToListAsync(ct);
            var memberships = (await db.Memberships.AsNoTracking().ToListAsync(ct)).Select(m => (m.TeamId, m.UserId, m.Role));

            var snapshot = new RouteSnapshot(version, keys, teams, deployments, users, memberships);
            Volatile.Write(ref _current, snapshot);
            LogRefreshed(version, snapshot.KeysByHash.Count, snapshot.Teams.Count, snapshot.Groups.Count);
        }
        finally
        {
            _refreshing.Release();
        }
    }

    private DeploymentEntry ToEntry(ModelDeployment d)
    {
        string? apiKey = null;
        if (d.ApiKeyCipher is not null)
        {
            try
            {
                apiKey = secrets.Open(d.ApiKeyCipher);
            }
            catch (Exception e) when (e is System.Security.Cryptography.CryptographicException or FormatException)
            {
                // Calls to this deployment go out without a key and the provider refuses them; the reason is logged here.
                LogUnreadableKey(d.ModelId, e.Message);
            }
        }
        var apiBase = d.ApiBase is null ? Provider.OpenAIDefaultBase : new Uri(d.ApiBase);
        var timeout = d.TimeoutSeconds is > 0 ? TimeSpan.FromSeconds(d.TimeoutSeconds.Value) : Provider.DefaultTimeout;
        return new DeploymentEntry(d.ModelId, d.ModelName, d.TeamId, d.PublicName, d.Provider,
            Provider.UpstreamName(d.UpstreamModel, d.Provider), apiBase, d.ApiVersion, apiKey, timeout);
    }

    [LoggerMessage(1, LogLevel.Debug, "Route snapshot {Version} loaded: {Keys} keys, {Teams} teams, {Groups} model groups")]
    private partial void LogRefreshed(long version, int keys, int teams, int groups);

    [LoggerMessage(2, LogLevel.Error, "Provider key of model {ModelId} cannot be opened: {Reason}")]
    private partial void LogUnreadableKey(string modelId, string reason);
}
