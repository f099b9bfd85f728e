namespace Proxy.Core.Access;

/// <summary>
/// Whose daily activity (the sums of <c>/team/daily/activity</c>, <c>/user/daily/activity</c> and the portal's Usage
/// tab) a caller may read. As LiteLLM decides it: a team's activity is for everyone who may read the team (its members,
/// admins or not, its keys, and the proxy admin), since it shows sums per day, model and key (keys as hashes with their
/// alias, as members already see them), never a call; another team's is refused with the 403 of <c>/spend/logs</c>.
/// A user's activity is theirs and the proxy admin's.
/// </summary>
public static class ActivityVisibility
{
    public static bool MayReadTeam(Caller caller, string teamId) => Rules.Can(caller, TeamPermission.Read, teamId);

    public static bool MayReadUser(Caller caller, string? userId) =>
        Rules.CanAdministerProxy(caller) || (userId is not null && userId == caller.UserId);

    /// <summary>
    /// The teams a report covers: those asked for, each one the caller may read (else a 403), or, when none is asked
    /// for, every team for the proxy admin (null) and the caller's own teams for anyone else.
    /// </summary>
    public static IReadOnlyList<string>? Teams(Caller caller, IReadOnlyList<string>? requested)
    {
        if (requested is not { Count: > 0 })
        {
            return Rules.CanAdministerProxy(caller) ? null : TeamVisibility.ReachOf(caller).TeamIds.Distinct().ToList();
        }
        foreach (var teamId in requested)
        {
            if (!MayReadTeam(caller, teamId))
            {
                throw ProxyError.Forbidden(caller.KeyTeamId is { } own && own != teamId
                    ? $"This key belongs to team {own} and cannot read the daily activity of team {teamId}."
                    : $"Only the proxy admin or a member of team {teamId} can read its daily activity.");
            }
        }
        return requested;
    }

    /// <summary>
    /// The user a report covers: the one asked for, when the caller may read them (else a 403); when none is asked for,
    /// everyone (null) for the proxy admin, as LiteLLM's admin view, and the caller themself for anyone else. A key
    /// without a user has no activity of its own.
    /// </summary>
    public static string? User(Caller caller, string? requested)
    {
        if (requested is null && Rules.CanAdministerProxy(caller))
        {
            return null;
        }
        var userId = requested ?? caller.UserId
            ?? throw ProxyError.BadRequest("This key belongs to no user: read its team's activity with /team/daily/activity.", "user_id");
        if (!MayReadUser(caller, userId))
        {
            throw ProxyError.Forbidden("Only the proxy admin can read another user's daily activity.");
        }
        return userId;
    }
}
