using System.Collections.Frozen;

namespace Proxy.Core.Routing;

/// <summary>
/// Everything a request needs to be authenticated, authorised and routed, frozen in memory. Built from the
/// database after every change and swapped in whole, so the hot path never reads the database.
/// </summary>
public sealed class RouteSnapshot
{
    public static readonly RouteSnapshot Empty = new(-1, [], [], [], [], []);

    public RouteSnapshot(long version, IEnumerable<KeyEntry> keys, IEnumerable<TeamEntry> teams,
        IEnumerable<DeploymentEntry> deployments, IEnumerable<UserEntry> users, IEnumerable<(string TeamId, string UserId, string Role)> memberships)
    {
        Version = version;
        KeysByHash = keys.ToFrozenDictionary(k => k.Hash, StringComparer.Ordinal);
        Teams = teams.ToFrozenDictionary(t => t.TeamId, StringComparer.Ordinal);
        Groups = deployments.GroupBy(d => d.ModelName, StringComparer.Ordinal)
            .ToFrozenDictionary(g => g.Key, g => g.ToArray(), StringComparer.Ordinal);
        Users = users.ToFrozenDictionary(u => u.UserId, StringComparer.Ordinal);
        RolesByUser = memberships.GroupBy(m => m.UserId, StringComparer.Ordinal)
            .ToFrozenDictionary(g => g.Key, g => (IReadOnlyDictionary<string, string>)g.ToFrozenDictionary(m => m.TeamId, m => m.Role, StringComparer.Ordinal), StringComparer.Ordinal);
        GlobalModelNames = Groups.Where(g => g.Value[0].TeamId is null).Select(g => g.Key).Order(StringComparer.Ordinal).ToArray();
    }

    /// <summary>The value of the database's route-data version this snapshot was built from.</summary>
    public long Version { get; }
    public FrozenDictionary<string, KeyEntry> KeysByHash { get; }
    public FrozenDictionary<string, TeamEntry> Teams { get; }

    /// <summary>Model name (internal for team models, public for global ones) → its deployments.</summary>
    public FrozenDictionary<string, DeploymentEntry[]> Groups { get; }
    public FrozenDictionary<string, UserEntry> Users { get; }

    /// <summary>User id → team id → role.</summary>
    public FrozenDictionary<string, IReadOnlyDictionary<string, string>> RolesByUser { get; }

    public IReadOnlyList<string> GlobalModelNames { get; }

    public IReadOnlyDictionary<string, string> RolesOf(string? userId) =>
        userId is not null && RolesByUser.TryGetValue(userId, out var roles) ? roles : FrozenDictionary<string, string>.Empty;
}

public sealed record KeyEntry(
    string Hash, string KeyName, string? TeamId, string? UserId, string[] Models, string KeyType, DateTime? ExpiresAt, bool Blocked);

public sealed record TeamEntry(string TeamId, string[] Models, bool Blocked, FrozenDictionary<string, string> Aliases);

public sealed record UserEntry(string UserId, string? Email, bool IsProxyAdmin, bool Disabled);

/// <summary>A deployment ready to forward to: the provider key is already opened.</summary>
public sealed record DeploymentEntry(
    string ModelId, string ModelName, string? TeamId, string? PublicName, string Provider,
    string UpstreamModel, Uri ApiBase, string? ApiVersion, string? ApiKey, TimeSpan Timeout);
