using System.Collections.Frozen;
using System.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Proxy.Core.Models;
using Proxy.Core.Persistence;
using Proxy.Core.Secrets;
using Proxy.Core.Spend;

namespace Proxy.Core.Routing;

/// <summary>
/// Holds the current <see cref="RouteSnapshot"/>. A refresh rebuilds it from the database and swaps it in one
/// reference write; readers never lock. Refreshes are serialised and skipped when the data has not changed.
/// </summary>
public sealed partial class RouteTable(
    IServiceScopeFactory scopes, SecretBox secrets, SpendLedger ledger, PriceTable prices, DeploymentStates states,
    Microsoft.Extensions.Options.IOptions<RoutingOptions> routing, ILogger<RouteTable> log, Providers.Vertex.VertexTokens? vertexTokens = null)
{
    private readonly SemaphoreSlim _refreshing = new(1, 1);
    private RouteSnapshot _current = RouteSnapshot.Empty;

    public RouteSnapshot Current => Volatile.Read(ref _current);

    /// <summary>How many versions of change records are kept; an instance further behind reloads everything.</summary>
    public const int ChangeLogLength = 10_000;

    /// <summary>Above this many changed teams a full reload is cheaper than replacing them one by one.</summary>
    private const int MaxTeamsPerPartialRefresh = 200;

    /// <summary>
    /// Brings the snapshot up to the database's version: replaces just the teams the change log names, or reloads
    /// everything when a change was not team-scoped (or the log does not reach back far enough).
    /// </summary>
    public async Task RefreshAsync(CancellationToken ct = default)
    {
        await _refreshing.WaitAsync(ct);
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<PortalDb>();
            // One snapshot-isolated read, so keys, teams and models agree with each other and with the version.
            await using var tx = await Database.BeginReadAsync(db, ct);
            var version = await db.RouteDataVersions.AsNoTracking().Select(v => v.Version).SingleAsync(ct);
            var current = Current;
            if (version == current.Version)
            {
                return;
            }
            var teamIds = current.Version < 0 ? null : await ChangedTeamsAsync(db, current.Version, version, ct);
            var data = await LoadAsync(db, teamIds, ct);
            var next = teamIds is null ? RouteSnapshot.Build(version, data) : current.WithTeams(version, teamIds, data);
            if (teamIds is null)
            {
                ledger.KeepOnly(data.Accounts());
                states.KeepOnly(data.Deployments.Select(d => d.ModelId).ToHashSet(StringComparer.Ordinal));
            }
            Volatile.Write(ref _current, next);
            LogRefreshed(version, teamIds?.Count ?? -1, next.KeysByHash.Count, next.Teams.Count, next.Groups.Count);
        }
        finally
        {
            _refreshing.Release();
        }
    }

    /// <summary>The teams changed after <paramref name="from"/>, or null when only a full reload is right.</summary>
    private static async Task<IReadOnlyCollection<string>?> ChangedTeamsAsync(PortalDb db, long from, long to, CancellationToken ct)
    {
        var changes = await db.RouteChanges.AsNoTracking().Where(c => c.Version > from && c.Version <= to).ToListAsync(ct);
        var everyVersionLogged = changes.Select(c => c.Version).Distinct().LongCount() == to - from;
        if (!everyVersionLogged || changes.Any(c => c.TeamId is null))
        {
            return null;
        }
        var teams = changes.Select(c => c.TeamId!).ToHashSet(StringComparer.Ordinal);
        return teams.Count <= MaxTeamsPerPartialRefresh ? teams : null;
    }

    /// <summary>Reads the given teams with their keys, aliases, deployments, members and those members' users; null reads everything.</summary>
    private async Task<RouteData> LoadAsync(PortalDb db, IReadOnlyCollection<string>? teamIds, CancellationToken ct)
    {
        var ids = teamIds?.ToList();
        var teamQuery = db.Teams.AsNoTracking();
        var keyQuery = db.Keys.AsNoTracking();
        var aliasQuery = db.Aliases.AsNoTracking();
        var deploymentQuery = db.Deployments.AsNoTracking();
        var memberQuery = db.Memberships.AsNoTracking();
        if (ids is not null)
        {
            teamQuery = teamQuery.Where(t => ids.Contains(t.TeamId));
            keyQuery = keyQuery.Where(k => k.TeamId != null && ids.Contains(k.TeamId));
            aliasQuery = aliasQuery.Where(a => ids.Contains(a.TeamId));
            deploymentQuery = deploymentQuery.Where(d => d.TeamId != null && ids.Contains(d.TeamId));
            memberQuery = memberQuery.Where(m => ids.Contains(m.TeamId));
        }
        var keys = (await keyQuery.Select(k => new
            {
                k.Token, k.KeyName, k.TeamId, k.UserId, k.Models, k.KeyType, k.ExpiresAt, k.Blocked,
                k.MaxBudget, k.RpmLimit, k.TpmLimit, k.MaxParallelRequests, k.Spend, k.BudgetResetAt, k.Aliases, k.ModelBudgets,
            }).ToListAsync(ct))
            .Select(k => new KeyEntry(k.Token, k.KeyName, k.TeamId, k.UserId, k.Models.ToArray(), k.KeyType, k.ExpiresAt, k.Blocked,
                ledger.Bind(AccountKind.Key, k.Token, new Limits(k.MaxBudget, k.RpmLimit, k.TpmLimit, k.MaxParallelRequests), k.Spend, k.BudgetResetAt))
            {
                Aliases = Frozen(k.Aliases),
                ModelAccounts = ModelAccounts(k.Token, k.ModelBudgets),
            })
            .ToList();
        var aliases = (await aliasQuery.ToListAsync(ct)).ToLookup(a => a.TeamId);
        var members = (await memberQuery.ToListAsync(ct)).ToLookup(m => m.TeamId);
        var keysByTeam = keys.Where(k => k.TeamId is not null).ToLookup(k => k.TeamId!);
        var teams = (await teamQuery.ToListAsync(ct)).Select(t => new TeamEntry(
            t.TeamId, [.. t.Models], t.Blocked,
            aliases[t.TeamId].ToFrozenDictionary(a => a.PublicName, a => a.InternalName, StringComparer.Ordinal),
            members[t.TeamId].ToFrozenDictionary(m => m.UserId, m => m.Role, StringComparer.Ordinal),
            keysByTeam[t.TeamId].Select(k => k.Hash).ToArray(),
            ledger.Bind(AccountKind.Team, t.TeamId, new Limits(t.MaxBudget, t.RpmLimit, t.TpmLimit, null), t.Spend, t.BudgetResetAt),
            t.RouterSettings is null ? null : RoutingPolicy.Of(RouterSettings.FromStored(t.RouterSettings), routing.Value),
            string.IsNullOrEmpty(t.TeamAlias) ? t.TeamId : t.TeamAlias,
            MemberAccounts(members[t.TeamId]))
        {
            ModelAliases = Frozen(t.ModelAliases),
        }).ToList();
        var deployments = (await deploymentQuery.ToListAsync(ct)).Select(ToEntry).ToList();
        var userQuery = db.Users.AsNoTracking();
        if (ids is not null)
        {
            var userIds = members.SelectMany(g => g.Select(m => m.UserId)).Concat(keys.Where(k => k.UserId is not null).Select(k => k.UserId!)).Distinct().ToList();
            userQuery = userQuery.Where(u => userIds.Contains(u.Id));
        }
        var users = (await userQuery.Select(u => new { u.Id, u.Email, u.IsProxyAdmin, u.Disabled, u.MaxBudget, u.Spend, u.BudgetResetAt, u.Models, u.RpmLimit, u.TpmLimit }).ToListAsync(ct))
            .Select(u => new UserEntry(u.Id, u.Email, u.IsProxyAdmin, u.Disabled,
                ledger.Bind(AccountKind.User, u.Id, new Limits(u.MaxBudget, u.RpmLimit, u.TpmLimit, null), u.Spend, u.BudgetResetAt),
                [.. u.Models]))
            .ToList();
        return new RouteData(keys, teams, deployments, users);
    }

    /// <summary>A model alias map as the hot path reads it; the shared empty one when there are none.</summary>
    private static FrozenDictionary<string, string> Frozen(Dictionary<string, string> aliases) =>
        aliases.Count == 0 ? FrozenDictionary<string, string>.Empty : aliases.ToFrozenDictionary(StringComparer.Ordinal);

    /// <summary>The live accounts of a team's members that have a budget in it (<c>max_budget_in_team</c>); null when none has.</summary>
    private FrozenDictionary<string, SpendAccount>? MemberAccounts(IEnumerable<Teams.TeamMembership> members)
    {
        var accounts = members
            .Select(m => (m.UserId, Account: ledger.Bind(AccountKind.Member, MemberAccount.Id(m.TeamId, m.UserId), new Limits(m.MaxBudgetInTeam, null, null, null), m.Spend)))
            .Where(m => m.Account is not null)
            .ToFrozenDictionary(m => m.UserId, m => m.Account!, StringComparer.Ordinal);
        return accounts.Count == 0 ? null : accounts;
    }

    /// <summary>The live accounts of a key's model budgets (<c>model_max_budget</c>), by public model name; null when it has none.</summary>
    private FrozenDictionary<string, SpendAccount>? ModelAccounts(string keyHash, List<Keys.KeyModelBudget> budgets) =>
        budgets.Count == 0 ? null : budgets.ToFrozenDictionary(
            b => b.Model,
            b => ledger.Bind(AccountKind.KeyModel, KeyModelAccount.Id(keyHash, b.Model), new Limits(b.BudgetLimit, null, null, null), b.Spend, b.BudgetResetAt)!,
            StringComparer.Ordinal);

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
        string? cloudSecrets = null;
        if (d.CloudSecretsCipher is not null)
        {
            try
            {
                cloudSecrets = secrets.Open(d.CloudSecretsCipher);
            }
            catch (Exception e) when (e is System.Security.Cryptography.CryptographicException or FormatException)
            {
                // As for the key: calls go out unsigned and the provider refuses them.
                LogUnreadableKey(d.ModelId, e.Message);
            }
        }
        var credentials = Models.CloudParams.Credentials(d, apiKey, cloudSecrets, vertexTokens);
        var provider = Providers.Provider.Named(d.Provider) ?? Providers.Provider.Named(Providers.Provider.OpenAI)!;
        var apiBase = provider.BaseFor(d.ApiBase, credentials);
        var timeout = d.TimeoutSeconds is > 0 ? TimeSpan.FromSeconds(d.TimeoutSeconds.Value) : Providers.Provider.DefaultTimeout;
        var upstreamName = Providers.Provider.UpstreamName(d.UpstreamModel, d.Provider);
        var litellmParams = DeploymentParams.Parse(d.ExtraParams);
        var price = prices.For(d.Provider, upstreamName, DeploymentParams.Parse(d.ExtraInfo), litellmParams);
        var account = ledger.Bind(AccountKind.Deployment, d.ModelId,
            new Limits(null, DeploymentParams.Rpm(litellmParams), DeploymentParams.Tpm(litellmParams), null));
        return new DeploymentEntry(d.ModelId, d.ModelName, d.TeamId, d.PublicName, d.Provider,
            upstreamName, apiBase, d.ApiVersion, credentials, timeout, price, account,
            DeploymentParams.Weight(litellmParams), DeploymentParams.Order(litellmParams), DeploymentParams.MaxRetries(litellmParams))
        {
            State = states.For(d.ModelId),
        };
    }

    [LoggerMessage(1, LogLevel.Debug, "Route snapshot {Version} loaded ({ChangedTeams} teams replaced; -1 = full reload): {Keys} keys, {Teams} teams, {Groups} model groups")]
    private partial void LogRefreshed(long version, int changedTeams, int keys, int teams, int groups);

    [LoggerMessage(2, LogLevel.Error, "Provider key of model {ModelId} cannot be opened: {Reason}")]
    private partial void LogUnreadableKey(string modelId, string reason);
}
