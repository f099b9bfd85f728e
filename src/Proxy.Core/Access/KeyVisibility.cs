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

    /// <summary>The keys the caller may see, as a query filter.</summary>
    public static Expression<Func<VirtualKey, bool>> Of(Caller caller) => RuleExpression.Bind(Rule, ReachOf(caller));
}
