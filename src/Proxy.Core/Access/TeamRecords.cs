using System.Linq.Expressions;

namespace Proxy.Core.Access;

/// <summary>
/// Which of a team's records (audit events, spend logs) a caller may read: the proxy admin all, including those of no
/// team; a team admin those of the teams they administer. The query filter behind the check of
/// <see cref="Rules.DemandTeamRecords"/>.
/// </summary>
public static class TeamRecords
{
    /// <summary>What a caller reaches: every record, or those of these teams.</summary>
    public sealed record Reach(bool All, List<string> AdminOf);

    private static readonly Expression<Func<string?, Reach, bool>> Rule = (teamId, reach) =>
        reach.All || (teamId != null && reach.AdminOf.Contains(teamId));

    private static readonly Func<string?, Reach, bool> Compiled = Rule.Compile();

    public static Reach ReachOf(Caller caller) => new(Rules.CanAdministerProxy(caller), [.. Rules.AdministeredTeams(caller)]);

    public static bool Allows(Caller caller, string? teamId) => Compiled(teamId, ReachOf(caller));

    public static Expression<Func<TRow, bool>> Of<TRow>(Caller caller, Expression<Func<TRow, string?>> teamOf) =>
        RuleExpression.Bind(RuleExpression.OnTeamOf(teamOf, Rule), ReachOf(caller));
}
