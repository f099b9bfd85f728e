namespace Proxy.Core.Spend;

/// <summary>
/// What one gateway instance has admitted for one rate-limited account in the current minute. Every instance writes
/// its own rows and reads the others', so a key's <c>rpm_limit</c> holds across instances (see <see cref="SpendSync"/>).
/// </summary>
public sealed class RateWindow
{
    public AccountKind Kind { get; set; }
    public string AccountId { get; set; } = "";

    /// <summary>The instance that wrote the row (a new id at every start).</summary>
    public string Instance { get; set; } = "";

    /// <summary>Minutes since the Unix epoch, UTC: every instance's windows start on the same clock minute.</summary>
    public long Window { get; set; }

    public int Requests { get; set; }
    public long Tokens { get; set; }
    public int InFlight { get; set; }

    /// <summary>When the instance last wrote the row: calls in flight of an instance that stopped writing are not counted.</summary>
    public DateTime UpdatedAt { get; set; }
}

/// <summary>What a <see cref="SpendAccount"/> belongs to.</summary>
public enum AccountKind
{
    Key,
    Team,
    User,
    Deployment,

    /// <summary>A user in one team (<c>max_budget_in_team</c>); its id is <see cref="MemberAccount.Id"/>.</summary>
    Member,

    /// <summary>A key's budget for one model (<c>model_max_budget</c>); its id is <see cref="KeyModelAccount.Id"/>.</summary>
    KeyModel,
}

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

/// <summary>How a key's model budget is named: the key's hash (hex, never a slash), then the model (which may hold slashes).</summary>
public static class KeyModelAccount
{
    public static string Id(string keyHash, string model) => string.Concat(keyHash, "/", model);

    public static (string KeyHash, string Model) Split(string id)
    {
        var slash = id.IndexOf('/', StringComparison.Ordinal);
        return (id[..slash], id[(slash + 1)..]);
    }
}
