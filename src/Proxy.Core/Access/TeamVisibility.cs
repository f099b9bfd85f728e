using System.Linq.Expressions;

namespace Proxy.Core.Access;

/// <summary>
/// Which teams a caller may read (the team, its members, models and alias table): the proxy admin every team, anyone
/// else the teams they belong to and their key's team. The rule is one expression: EF translates it for lists, and
/// compiled once it answers <see cref="Rules.Can"/> for one team, so a list and an info cannot disagree.
/// </summary>
public static class TeamVisibility
{
    /// <summary>What a caller reaches: every team, or these.</summary>
    public sealed record Reach(bool All, List<string> TeamIds);

    internal static readonly Expression<Func<string?, Reach, bool>> Rule = (teamId, reach) =>
        reach.All || (teamId != null && reach.TeamIds.Contains(teamId));

    private static readonly Func<string?, Reach, bool> Compiled = Rule.Compile();

    public static Reach ReachOf(Caller caller) => caller.IsProxyAdmin
        ? new Reach(true, [])
        : new Reach(false, caller.KeyTeamId is { } own ? [.. caller.Roles.Keys, own] : [.. caller.Roles.Keys]);

    public static bool Allows(Caller caller, string teamId) => Compiled(teamId, ReachOf(caller));

    /// <summary>The rows of <typeparamref name="TRow"/> whose team (<paramref name="teamOf"/>) the caller may read.</summary>
    public static Expression<Func<TRow, bool>> Of<TRow>(Caller caller, Expression<Func<TRow, string?>> teamOf) =>
        RuleExpression.Bind(RuleExpression.OnTeamOf(teamOf, Rule), ReachOf(caller));
}
