using System.Collections.Frozen;
using Proxy.Core.Spend;

namespace Proxy.Core.Routing;

/// <summary>
/// Everything a request needs to be authenticated, authorised and routed, in memory. Never changed once published:
/// a change builds a new snapshot (whole, or with a few teams replaced) and swaps it in, so the hot path never reads
/// the database and never locks.
/// </summary>
public sealed class RouteSnapshot
{
    public static readonly RouteSnapshot Empty = Build(-1, new RouteData([], [], [], []));

    private readonly ShardedMap<KeyEntry> _keys;
    private readonly ShardedMap<TeamEntry> _teams;
    private readonly ShardedMap<DeploymentEntry[]> _groups;
    private readonly ShardedMap<UserEntry> _users;
    private readonly ShardedMap<IReadOnlyDictionary<string, string>> _roles;

    private RouteSnapshot(long version, ShardedMap<KeyEntry> keys, ShardedMap<TeamEntry> teams, ShardedMap<DeploymentEntry[]> groups,
        ShardedMap<UserEntry> users, ShardedMap<IReadOnlyDictionary<string, string>> roles, IReadOnlyList<string> globalModelNames)
    {
        Version = version;
        _keys = keys;
        _teams = teams;
        _groups = groups;
        _users = users;
        _roles = roles;
        GlobalModelNames = globalModelNames;
        GlobalWildcards = ModelPattern.LongestFirst(globalModelNames);
    }

    /// <summary>The value of the database's route-data version this snapshot reflects.</summary>
    public long Version { get; }

    public IReadOnlyDictionary<string, KeyEntry> KeysByHash => _keys;

    /// <summary>Looks a key up by its hash without allocating a string for it (the hot path's first step).</summary>
    public bool TryGetKey(ReadOnlySpan<char> hash, [System.Diagnostics.CodeAnalysis.MaybeNullWhen(false)] out KeyEntry key) =>
        _keys.TryGetValue(hash, out key);

    public IReadOnlyDictionary<string, TeamEntry> Teams => _teams;

    /// <summary>Model name (internal for team models, public for global ones) → its deployments.</summary>
    public IReadOnlyDictionary<string, DeploymentEntry[]> Groups => _groups;
    public IReadOnlyDictionary<string, UserEntry> Users => _users;
    public IReadOnlyList<string> GlobalModelNames { get; }

    /// <summary>The global model names that are patterns (<c>openai/*</c>, <c>*</c>), longest first: the first that matches wins.</summary>
    public string[] GlobalWildcards { get; }

    /// <summary>Team id → role of a user, across all their teams.</summary>
    public IReadOnlyDictionary<string, string> RolesOf(string? userId) =>
        userId is not null && _roles.TryGetValue(userId, out var roles) ? roles : FrozenDictionary<string, string>.Empty;

    public static RouteSnapshot Build(long version, RouteData data)
    {
        var groups = data.Deployments.GroupBy(d => d.ModelName, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.ToArray(), StringComparer.Ordinal);
        var roles = data.Teams.SelectMany(t => t.Members.Select(m => (t.TeamId, UserId: m.Key, Role: m.Value)))
            .GroupBy(m => m.UserId, StringComparer.Ordinal)
            .Select(g => KeyValuePair.Create(g.Key, (IReadOnlyDictionary<string, string>)g.ToDictionary(m => m.TeamId, m => m.Role, StringComparer.Ordinal)));
        var globals = groups.Where(g => g.Value[0].TeamId is null).Select(g => g.Key).Order(StringComparer.Ordinal).ToArray();
        return new RouteSnapshot(version,
            ShardedMap<KeyEntry>.From(data.Keys.Select(k => KeyValuePair.Create(k.Hash, k))),
            ShardedMap<TeamEntry>.From(data.Teams.Select(t => KeyValuePair.Create(t.TeamId, t))),
            ShardedMap<DeploymentEntry[]>.From(groups),
            ShardedMap<UserEntry>.From(data.Users.Select(u => KeyValuePair.Create(u.UserId, u))),
            ShardedMap<IReadOnlyDictionary<string, string>>.From(roles),
            globals);
    }

    /// <summary>
    /// A new snapshot with the given teams' keys, aliases, deployments and members replaced by <paramref name="reloaded"/>
    /// (a team absent from it was deleted). Only the shards of the lookup tables that change are copied.
    /// </summary>
    public RouteSnapshot WithTeams(long version, IReadOnlyCollection<string> teamIds, RouteData reloaded)
    {
        var old = teamIds.Select(id => _teams.TryGetValue(id, out var team) ? team : null).OfType<TeamEntry>().ToList();

        // Each affected user's roles: what they had, minus the replaced teams, plus their roles in the reloaded ones.
        var roles = new Dictionary<string, Dictionary<string, string>>(StringComparer.Ordinal);
        foreach (var userId in old.SelectMany(t => t.Members.Keys).Concat(reloaded.Teams.SelectMany(t => t.Members.Keys)))
        {
            if (!roles.ContainsKey(userId))
            {
                roles[userId] = RolesOf(userId).Where(r => !teamIds.Contains(r.Key)).ToDictionary(r => r.Key, r => r.Value, StringComparer.Ordinal);
            }
        }
        foreach (var team in reloaded.Teams)
        {
            foreach (var (userId, role) in team.Members)
            {
                roles[userId][team.TeamId] = role;
            }
        }

        return new RouteSnapshot(version,
            _keys.With(old.SelectMany(t => t.KeyHashes), reloaded.Keys.Select(k => KeyValuePair.Create(k.Hash, k))),
            _teams.With(teamIds, reloaded.Teams.Select(t => KeyValuePair.Create(t.TeamId, t))),
            _groups.With(old.SelectMany(t => t.Aliases.Values),
                reloaded.Deployments.GroupBy(d => d.ModelName, StringComparer.Ordinal).Select(g => KeyValuePair.Create(g.Key, g.ToArray()))),
            _users.With([], reloaded.Users.Select(u => KeyValuePair.Create(u.UserId, u))),
            _roles.With([], roles.Select(r => KeyValuePair.Create(r.Key, (IReadOnlyDictionary<string, string>)r.Value))),
            GlobalModelNames);
    }
}

/// <summary>Rows read from the database, in the shape the snapshot keeps.</summary>
public sealed record RouteData(
    IReadOnlyList<KeyEntry> Keys, IReadOnlyList<TeamEntry> Teams, IReadOnlyList<DeploymentEntry> Deployments,
    IReadOnlyList<UserEntry> Users)
{
    /// <summary>The spend accounts these rows are bound to.</summary>
    public IReadOnlySet<(AccountKind, string)> Accounts() =>
        Keys.Select(k => k.Account).Concat(Teams.Select(t => t.Account)).Concat(Users.Select(u => u.Account)).Concat(Deployments.Select(d => d.Account))
            .Concat(Teams.SelectMany(t => t.MemberAccounts?.Values ?? Enumerable.Empty<SpendAccount>()))
            .Concat(Keys.SelectMany(k => k.ModelAccounts?.Values ?? Enumerable.Empty<SpendAccount>()))
            .OfType<SpendAccount>().Select(a => (a.Kind, a.Id)).ToHashSet();
}

/// <param name="Account">The key's budget and rate limits, live; null when it has none.</param>
public sealed record KeyEntry(
    string Hash, string KeyName, string? TeamId, string? UserId, string[] Models, string KeyType, DateTime? ExpiresAt, bool Blocked,
    SpendAccount? Account = null)
{
    /// <summary>The key's <c>aliases</c> (name sent → model name), applied after the team's; empty (shared, no allocation) for most keys.</summary>
    public FrozenDictionary<string, string> Aliases { get; init; } = FrozenDictionary<string, string>.Empty;

    /// <summary>Its <c>model_max_budget</c>: public model name → the live budget for that model; null when it has none.</summary>
    public FrozenDictionary<string, SpendAccount>? ModelAccounts { get; init; }

    /// <summary>The key's budget for <paramref name="model"/>, if it has one.</summary>
    public SpendAccount? ModelAccount(string model) => ModelAccounts?.GetValueOrDefault(model);
}

/// <summary>A team as routing sees it: its models list, alias table, model aliases, members, the hashes of its keys, and its limits.</summary>
/// <param name="Routing">Its router settings with the gateway's defaults filled in; null: the defaults.</param>
/// <param name="Label">What metrics call the team: its alias, else its id.</param>
public sealed record TeamEntry(
    string TeamId, string[] Models, bool Blocked, FrozenDictionary<string, string> Aliases,
    FrozenDictionary<string, string> Members, string[] KeyHashes, SpendAccount? Account = null, RoutingPolicy? Routing = null, string? Label = null,
    FrozenDictionary<string, SpendAccount>? MemberAccounts = null)
{
    /// <summary>
    /// The team's <c>model_aliases</c> (name sent → model name), applied before the key's. Not <see cref="Aliases"/>, which
    /// maps the team models' public names to their internal groups.
    /// </summary>
    public FrozenDictionary<string, string> ModelAliases { get; init; } = FrozenDictionary<string, string>.Empty;

    /// <summary>The public names of its alias table that are patterns (<c>openai/*</c>, <c>*</c>), longest first.</summary>
    public string[] Wildcards { get; } = ModelPattern.LongestFirst(Aliases.Keys);

    /// <summary>The live budget of a member in this team (<c>max_budget_in_team</c>); null when the member has none.</summary>
    public SpendAccount? AccountOf(string userId) => MemberAccounts is { Count: > 0 } accounts ? accounts.GetValueOrDefault(userId) : null;
}

/// <param name="Models">The user's <c>models</c>: what their keys with an empty <c>models</c> list may call; empty: no restriction.</param>
public sealed record UserEntry(string UserId, string? Email, bool IsProxyAdmin, bool Disabled, SpendAccount? Account = null, string[]? Models = null);

/// <summary>A deployment ready to forward to: the provider key and cloud secrets are already opened, its URLs already built.</summary>
/// <param name="Price">What its tokens cost; null when no price is known (calls then cost 0).</param>
/// <param name="Account">Its own <c>rpm</c>/<c>tpm</c> (litellm_params), live; null when it has none.</param>
/// <param name="Weight">Its share in simple-shuffle (<c>litellm_params.weight</c>).</param>
/// <param name="Order">Strict priority (<c>litellm_params.order</c>): 1 first.</param>
/// <param name="MaxRetries"><c>litellm_params.max_retries</c>: retries of a call that starts here.</param>
public sealed record DeploymentEntry(
    string ModelId, string ModelName, string? TeamId, string? PublicName, string Provider,
    string UpstreamModel, Uri ApiBase, string? ApiVersion, Providers.DeploymentCredentials Credentials, TimeSpan Timeout,
    Price? Price = null, SpendAccount? Account = null, double Weight = 1, int? Order = null, int? MaxRetries = null)
{
    /// <summary>How it has been doing on this instance (in flight, latency, cooldown), live.</summary>
    public DeploymentState State { get; init; } = new();

    /// <summary>Its <c>litellm_params.model</c> has a <c>*</c>, which a call's model name fills in (<see cref="ModelCatalog"/>).</summary>
    public bool IsWildcard { get; } = UpstreamModel.Contains('*');

    /// <summary>
    /// This wildcard deployment for one concrete model: the same provider, key, base and limits, the model's own upstream
    /// name and price, and a health of its own (one model's failures do not cool the others down).
    /// </summary>
    internal DeploymentEntry ForModel(string upstreamModel, Price? price) =>
        new(ModelId, ModelName, TeamId, PublicName, Provider, upstreamModel, ApiBase, ApiVersion, Credentials, Timeout, price, Account, Weight, Order, MaxRetries);

    /// <summary>The provider key (api_key), opened; null when it has none.</summary>
    public string? ApiKey => Credentials.ApiKey;

    /// <summary>The dialect its provider speaks.</summary>
    internal Providers.IProviderApi Api { get; } = Providers.Provider.Named(Provider)?.ApiFor(UpstreamModel) ?? Providers.OpenAIApi.Instance;

    // Built once per deployment when the snapshot is, not on every call.
    private readonly Uri[] _upstreamUris = Uris(Provider, ApiBase, UpstreamModel, ApiVersion, Credentials, stream: false);
    private readonly Uri[] _streamUris = Uris(Provider, ApiBase, UpstreamModel, ApiVersion, Credentials, stream: true);

    public Uri UpstreamUri(Forwarding.LlmRoute route) => _upstreamUris[route.Index];

    /// <summary>Where a streamed call on <paramref name="route"/> goes (<see cref="Providers.IProviderApi.StreamUri"/>).</summary>
    public Uri StreamUri(Forwarding.LlmRoute route) => _streamUris[route.Index];

    private static Uri[] Uris(string provider, Uri apiBase, string upstreamModel, string? apiVersion, Providers.DeploymentCredentials credentials, bool stream)
    {
        var api = Providers.Provider.Named(provider)?.ApiFor(upstreamModel) ?? Providers.OpenAIApi.Instance;
        return [.. Forwarding.LlmRoute.All.Select(route =>
        {
            var uri = api.UpstreamUri(apiBase, upstreamModel, apiVersion, route, credentials);
            return stream ? api.StreamUri(uri) : uri;
        })];
    }

    /// <summary>YARP's settings for a call to it (its timeout), also built once.</summary>
    internal Yarp.ReverseProxy.Forwarder.ForwarderRequestConfig ForwarderConfig { get; } = new() { ActivityTimeout = Timeout };
}
