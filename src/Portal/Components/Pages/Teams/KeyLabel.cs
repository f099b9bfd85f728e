using Proxy.Core.Access;
using Proxy.Core.Keys;

namespace Portal.Components.Pages.Teams;

/// <summary>How the portal names a key in a log or report: its alias and masked form, never the raw key nor its hash.</summary>
public static class KeyLabel
{
    public static string Of(VirtualKey key) => key.KeyAlias is { } alias ? $"{alias} · {key.KeyName}" : key.KeyName;

    /// <summary>
    /// The key with this hash among the team's <paramref name="keys"/>; a key deleted or regenerated since is named by
    /// the alias it had (<paramref name="formerAlias"/>) when that is known.
    /// </summary>
    public static string Of(string keyHash, IEnumerable<VirtualKey> keys, string? formerAlias = null) =>
        keys.FirstOrDefault(k => k.Token == keyHash) is { } key ? Of(key)
        : keyHash == Caller.MasterKey.Actor ? "master key"
        : formerAlias is not null ? $"{formerAlias} (deleted or regenerated since)"
        : "a key since deleted or regenerated";
}
