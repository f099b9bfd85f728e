namespace Proxy.Core.Spend;

/// <summary>How a member's account is named: team and user, which the team id (it never holds a slash) separates.</summary>
public static class MemberAccount
{
    public static string Id(string teamId, string userId) => string.Concat(teamId, "/", userId);

    public static (string TeamId, string UserId) Split(string id)
    {
        var slash = id.IndexOf('/', StringComparison.Ordinal);
        return (id[..slash], id[(slash + 1)..]);
    }
}
