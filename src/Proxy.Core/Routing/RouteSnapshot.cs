using System.Collections.Frozen;

namespace Proxy.Core.Routing;

/// <summary>
/// Everything a request needs to be authenticated, authorised and routed, in memory. Never changed once published:
/// a change builds a new snapshot (whole, or with a few teams replaced) and swaps it in, so the hot path never reads
/// the database and never locks.
/// </summary>
public sealed class RouteSnapshot
{
    public static readonly RouteSnapshot Empty = Build(-1, new RouteData([], [], [], []));

    private readonly Dictionary<string, KeyEntry> _keys;
    private readonly Dictionary<string, TeamEntry> _teams;
    private readonly Dictionary<string, DeploymentEntry[]> _groups;
    private readonly Dictionary<string, UserEntry> _users;
    private readonly Dictionary<string, IReadOnlyDictionary<string, string>> _roles;

    private RouteSnapshot(long version, Dictionary<string, KeyEntry> keys, Dictionary<string, TeamEntry> teams,
        Dictionary<string, DeploymentEntry[]> groups, Dictionary<string, UserEntry> users,
        Dictionary<string, IReadOnlyDictionary<string, string>> roles, IReadOnlyList<string> globalModelNames)
    {
        Version = version;
        _keys = keys;
        _teams = teams;
        _groups = groups;
        _users = users;
        _roles = roles;
        GlobalModelNames = globalModelNames;
    }

    /// <summary>The value of the database's route-data version this snapshot reflects.</summary>
    public long Version { get; }

    public IReadOnlyDictionary<string, KeyEntry> KeysByHash => _keys;

    /// <summary>Looks a key up by its hash without allocating a string for it (the hot path's first step).</summary>
    public bool TryGetKey(ReadOnlySpan<char> hash, [System.Diagnostics.CodeAnalysis.MaybeNullWhen(false)] out KeyEntry key) =>
        _keys.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(hash, out key);
    public IReadOnlyDictionary<string, TeamEntry> Teams => _teams;

    /// <summary>Model name (internal for team models, public for global ones) → its deployments.</summary>
    public IReadOnlyDictionary<string, DeploymentEntry[]> Groups => _groups;
    public IReadOnlyDictionary<string, UserEntry> Users => _users;
    public IReadOnlyList<string> GlobalModelNames { get; }

    /// <summary>Team id → role of a user, across all their teams.</summary>
    public IReadOnlyDictionary<string, string> RolesOf(string? userId) =>
        userId is not null && _roles.TryGetValue(userId, out var roles) ? roles : FrozenDictionary<string, string>.Empty;

    public static RouteSnapshot Build(long version, RouteData data)
    {
        var keys = data.Keys.ToDictionary(k => k.Hash, StringComparer.Ordinal);
        var groups = data.Deployments.GroupBy(d => d.ModelName, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.ToArray(), StringComparer.Ordinal);
        var teams = data.Teams.ToDictionary(t => t.TeamId, StringComparer.Ordinal);
        var users = data.Users.ToDictionary(u => u.UserId, StringComparer.Ordinal);
        var roles = new Dictionary<string, IReadOnlyDictionary<string, string>>(StringComparer.Ordinal);
        foreach (var byUser in data.Teams.SelectMany(t => t.Members.Select(m => (t.TeamId, UserId: m.Key, Role: m.Value))).GroupBy(m => m.UserId))
        {
            roles[byUser.Key] = byUser.ToDictionary(m => m.TeamId, m => m.Role, StringComparer.Ordinal);
        }
        var globals = groups.Where(g => g.Value[0].TeamId is null).Select(g => g.Key).Order(StringComparer.Ordinal).ToArray();
        return new RouteSnapshot(version, keys, teams, groups, users, roles, globals);
    }

    /// <summary>
    /// A new snapshot with the given teams' keys, aliases, deployments and members replaced by <paramref name="reloaded"/>
    /// (a team absent from it was deleted). Costs a copy of the lookup tables, not a database reload of everything.
    /// </summary>
    public RouteSnapshot WithTeams(long version, IReadOnlyCollection<string> teamIds, RouteData reloaded)
    {
        var keys = new Dictionary<string, KeyEntry>(_keys, StringComparer.Ordinal);
        var groups = new Dictionary<string, DeploymentEntry[]>(_groups, StringComparer.Ordinal);
        var teams = new Dictionary<string, TeamEntry>(_teams, StringComparer.Ordinal);
        var users = new Dictionary<string, UserEntry>(_users, StringComparer.Ordinal);
        var roles = new Dictionary<string, IReadOnlyDictionary<string, string>>(_roles, StringComparer.Ordinal);

        foreach (var teamId in teamIds)
        {
            if (!_teams.TryGetValue(teamId, out var old))
            {
                continue;
            }
            foreach (var hash in old.KeyHashes)
            {
                keys.Remove(hash);
            }
            foreach (var name in old.Aliases.Values)
            {
                groups.Remove(name);
            }
            foreach (var userId in old.Members.Keys)
            {
                if (roles.TryGetValue(userId, out var current))
                {
                    roles[userId] = current.Where(r => r.Key != teamId).ToDictionary(r => r.Key, r => r.Value, StringComparer.Ordinal);
                }
            }
            teams.Remove(teamId);
        }
        foreach (var key in reloaded.Keys)
        {
            keys[key.Hash] = key;
        }
        foreach (var group in reloaded.Deployments.GroupBy(d => d.ModelName, StringComparer.Ordinal))
        {
            groups[group.Key] = group.ToArray();
        }
        foreach (var user in reloaded.Users)
        {
            users[user.UserId] = user;
        }
        foreach (var team in reloaded.Teams)
        {
            teams[team.TeamId] = team;
            foreach (var (userId, role) in team.Members)
            {
                var updated = roles.TryGetValue(userId, out var current)
                    ? current.ToDictionary(r => r.Key, r => r.Value, StringComparer.Ordinal)
                    : new Dictionary<string, string>(StringComparer.Ordinal);
                updated[team.TeamId] = role;
                roles[userId] = updated;
            }
        }
        return new RouteSnapshot(version, keys, teams, groups, users, roles, GlobalModelNames);
    }
}

/// <summary>Rows read from the database, in the shape the snapshot keeps.</summary>
public sealed record RouteData(
    IReadOnlyList<KeyEntry> Keys, IReadOnlyList<TeamEntry> Teams, IReadOnlyList<DeploymentEntry> Deployments,
    IReadOnlyList<UserEntry> Users);

public sealed record KeyEntry(
    string Hash, string KeyName, string? TeamId, string? UserId, string[] Models, string KeyType, DateTime? ExpiresAt, bool Blocked);

/// <summary>A team as routing sees it: its models list, alias table, members, and the hashes of its keys.</summary>
public sealed record TeamEntry(
    string TeamId, string[] Models, bool Blocked, FrozenDictionary<string, string> Aliases,
    FrozenDictionary<string, string> Members, string[] KeyHashes);

public sealed record UserEntry(string UserId, string? Email, bool IsProxyAdmin, bool Disabled);

/// <summary>A deployment ready to forward to: the provider key is already opened.</summary>
public sealed record DeploymentEntry(
    string ModelId, string ModelName, string? TeamId, string? PublicName, string Provider,
    string UpstreamModel, Uri ApiBase, string? ApiVersion, string? ApiKey, TimeSpan Timeout);
