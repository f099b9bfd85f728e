using System.Linq.Expressions;
using Proxy.Core.Keys;

namespace Proxy.Core.Access;

/// <summary>
/// Which keys a caller may see, as LiteLLM decides it: the proxy admin every key; a key itself; a user (signed in, or
/// through any of their keys but an <c>llm_api</c> one) the keys whose <c>user_id</c> is theirs; a team admin the keys of
/// the team. One expression serves <c>/key/list</c> (EF translates it) and, compiled once, <c>/key/info</c>.
/// </summary>
public static class KeyVisibility
{
    /// <summary>What a caller reaches: every key, or its own key, its user's keys and the keys of the teams it administers.</summary>
    public sealed record Reach(bool All, string? OwnToken, string? UserId, List<string> AdminOf);

    private static readonly Expression<Func<VirtualKey, Reach, bool>> Rule = (key, reach) =>
        reach.All
        || key.Token == reach.OwnToken
        || (reach.UserId != null && key.UserId == reach.UserId)
        || (key.TeamId != null && reach.AdminOf.Contains(key.TeamId));

    private static readonly Func<VirtualKey, Reach, bool> Compiled = Rule.Compile();

    public static Reach ReachOf(Caller caller) => caller.IsProxyAdmin
        ? new Reach(true, null, null, [])
        : new Reach(false, caller.Key?.Hash,
            // An llm_api key is for LLM routes: it stands for itself, not for its user.
            caller.Key?.KeyType == KeyType.LlmApi ? null : caller.UserId,
            [.. Rules.AdministeredTeams(caller)]);

    public static bool Allows(Caller caller, VirtualKey key) => Compiled(key, ReachOf(caller));

    /// <summary>
    /// A key of a team as a reader of the team sees it in the team's key list (<c>/team/info</c>, the portal's team
    /// page): in full when this rule shows it; masked (<see cref="Masked"/>) to a member of a team whose
    /// <c>team_member_permissions</c> hold <c>/key/info</c>; otherwise not at all (null).
    /// </summary>
    public static VirtualKey? InTeamList(Caller caller, VirtualKey key, IReadOnlyList<string> teamMemberPermissions) =>
        Allows(caller, key) ? key
            : key.TeamId is not null && Rules.Can(caller, TeamPermission.Read, key.TeamId) && teamMemberPermissions.Contains(Teams.TeamMemberPermissions.Info)
                ? Masked(key)
                : null;

    /// <summary>What a member sees of a colleague's key: its masked name, alias, team and whether it is blocked; no owner, models, budgets or limits.</summary>
    public static VirtualKey Masked(VirtualKey key) => new()
    {
        KeyName = key.KeyName,
        KeyAlias = key.KeyAlias,
        TeamId = key.TeamId,
        Blocked = key.Blocked,
        CreatedAt = key.CreatedAt,
        UpdatedAt = key.UpdatedAt,
    };

    /// <summary>The keys the caller may see, as a query filter.</summary>
    public static Expression<Func<VirtualKey, bool>> Of(Caller caller) => RuleExpression.Bind(Rule, ReachOf(caller));
}
