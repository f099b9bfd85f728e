using System.Linq.Expressions;
using Proxy.Core.Keys;
using Proxy.Core.Usage;

namespace Proxy.Core.Access;

/// <summary>
/// Which of a team's recorded calls a caller may read in its call log: its admins and the proxy admin every call; any
/// other member only the calls made with their own keys (the key's <c>user_id</c> when the call was made), never a
/// colleague's. Everyone else is refused, as a team they cannot read.
/// </summary>
public static class CallLogVisibility
{
    /// <summary>True when the caller reads every call of the team, false when only their own.</summary>
    public static bool SeesWholeTeam(Caller caller, string teamId) => Rules.Can(caller, TeamPermission.Administer, teamId);

    /// <summary>The team's rows the caller may read, as a query filter on the <c>(TeamId, StartedAt)</c> index; throws the 403 of a non-member.</summary>
    public static Expression<Func<UsageRecord, bool>> Of(Caller caller, string teamId)
    {
        if (SeesWholeTeam(caller, teamId))
        {
            return u => u.TeamId == teamId;
        }
        // An llm_api key stands for itself, not for its user (as in KeyVisibility).
        if (Rules.Can(caller, TeamPermission.Read, teamId) && caller.UserId is { } userId && caller.Key?.KeyType != KeyType.LlmApi)
        {
            return u => u.TeamId == teamId && u.UserId == userId;
        }
        throw ProxyError.Forbidden($"You are not a member of team {teamId}.");
    }
}
