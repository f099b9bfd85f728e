using System.Collections.Frozen;
using Proxy.Core.Routing;

namespace Proxy.Core.Access;

public enum CallerKind
{
    MasterKey,
    VirtualKey,
    PortalUser,
}

/// <summary>
/// Who is calling, resolved once per request: the master key, a virtual key (with its team, user and type), or
/// a signed-in portal user. Every permission decision takes one of these; see <see cref="Rules"/>.
/// </summary>
public sealed class Caller
{
    public static readonly Caller MasterKey = new(CallerKind.MasterKey, "master_key", key: null, userId: null, isProxyAdmin: true,
        FrozenDictionary<string, string>.Empty);

    public Caller(CallerKind kind, string actor, KeyEntry? key, string? userId, bool isProxyAdmin, IReadOnlyDictionary<string, string> roles,
        TeamEntry? team = null, UserEntry? user = null)
    {
        Team = team;
        User = user;
        Kind = kind;
        Actor = actor;
        Key = key;
        UserId = userId;
        IsProxyAdmin = isProxyAdmin;
        Roles = roles;
    }

    public CallerKind Kind { get; }

    /// <summary>How the audit log names this caller: <c>master_key</c>, a masked key, or <c>user:{email}</c>. Never a secret.</summary>
    public string Actor { get; }

    /// <summary>The presented virtual key, when the caller is one.</summary>
    public KeyEntry? Key { get; }

    /// <summary>The portal user, or the key's <c>user_id</c>.</summary>
    public string? UserId { get; }

    public bool IsProxyAdmin { get; }

    /// <summary>Team id → role (<c>admin</c> or <c>user</c>) of <see cref="UserId"/>.</summary>
    public IReadOnlyDictionary<string, string> Roles { get; }

    /// <summary>The presented key's team and user as the snapshot holds them (with their limits), if any.</summary>
    public TeamEntry? Team { get; }

    public UserEntry? User { get; }

    /// <summary>The team of the presented key, if any.</summary>
    public string? KeyTeamId => Key?.TeamId;

    /// <summary>The name a user id takes in audit and <c>created_by</c> fields.</summary>
    public string Id => UserId ?? Actor;
}
