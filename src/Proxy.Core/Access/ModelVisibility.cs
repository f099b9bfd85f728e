using System.Linq.Expressions;
using Proxy.Core.Models;
using Proxy.Core.Routing;

namespace Proxy.Core.Access;

/// <summary>
/// Which deployments a caller may see (<c>/model/info</c>): a team's models by those who may read the team
/// (<see cref="TeamVisibility"/>), a global model by those whose key's and team's <c>models</c> lists allow it (the same
/// answer <see cref="Rules.MayUseGlobalModel"/> gives the LLM routes from the snapshot). One expression serves the list
/// (EF translates it) and, compiled once, the single read.
/// </summary>
public static class ModelVisibility
{
    /// <summary>
    /// What a caller reaches: the teams it reads, and the global models its key's and its team's lists allow (each list
    /// allows all when empty, <c>all-proxy-models</c>, <c>all-team-models</c> or <c>*</c>).
    /// </summary>
    public sealed record Reach(TeamVisibility.Reach Teams, bool KeyAllowsAll, List<string> KeyModels, bool TeamAllowsAll, List<string> TeamModels);

    private static readonly Expression<Func<ModelDeployment, Reach, bool>> GlobalRule = (deployment, reach) =>
        reach.Teams.All
        || ((reach.KeyAllowsAll || reach.KeyModels.Contains(deployment.ModelName))
            && (reach.TeamAllowsAll || reach.TeamModels.Contains(deployment.ModelName)));

    private static readonly Expression<Func<ModelDeployment, Reach, bool>> Rule = Combine();

    private static readonly Func<ModelDeployment, Reach, bool> Compiled = Rule.Compile();

    /// <param name="keyTeam">The caller's key's team as the route snapshot holds it (its <c>models</c> list), if any.</param>
    public static Reach ReachOf(Caller caller, TeamEntry? keyTeam) => new(
        TeamVisibility.ReachOf(caller),
        AllowsAll(Rules.KeyModels(caller)), [.. Rules.KeyModels(caller) ?? []],
        AllowsAll(keyTeam?.Models), [.. keyTeam?.Models ?? []]);

    public static bool Allows(Caller caller, TeamEntry? keyTeam, ModelDeployment deployment) => Compiled(deployment, ReachOf(caller, keyTeam));

    public static Expression<Func<ModelDeployment, bool>> Of(Caller caller, TeamEntry? keyTeam) => RuleExpression.Bind(Rule, ReachOf(caller, keyTeam));

    /// <summary>
    /// Where a team model's calls go (its <c>api_base</c> and provider key hint) is for those who manage the team's
    /// models; its members see the model, not its upstream.
    /// </summary>
    public static bool ShowsUpstream(Caller caller, ModelDeployment deployment) =>
        deployment.TeamId is null || Rules.CanManageModel(caller, deployment.TeamId);

    /// <summary>The deployment as the caller may see it: an untracked row, its upstream cleared when <see cref="ShowsUpstream"/> says no.</summary>
    public static ModelDeployment AsShown(Caller caller, ModelDeployment untracked)
    {
        if (!ShowsUpstream(caller, untracked))
        {
            untracked.ApiBase = null;
            untracked.ApiKeyHint = null;
            untracked.CloudSecretsHint = null;
        }
        return untracked;
    }

    private static bool AllowsAll(string[]? models) => Rules.AllowsEveryModel(models);

    /// <summary>A team model by the team rule, a global one by the global rule.</summary>
    private static Expression<Func<ModelDeployment, Reach, bool>> Combine()
    {
        var deployment = GlobalRule.Parameters[0];
        var reach = GlobalRule.Parameters[1];
        var teamId = Expression.Property(deployment, nameof(ModelDeployment.TeamId));
        var team = RuleExpression.Replace(
            RuleExpression.Replace(TeamVisibility.Rule.Body, TeamVisibility.Rule.Parameters[0], teamId),
            TeamVisibility.Rule.Parameters[1], Expression.Property(reach, nameof(Reach.Teams)));
        var isGlobal = Expression.Equal(teamId, Expression.Constant(null, typeof(string)));
        return Expression.Lambda<Func<ModelDeployment, Reach, bool>>(
            Expression.OrElse(Expression.AndAlso(Expression.Not(isGlobal), team), Expression.AndAlso(isGlobal, GlobalRule.Body)), deployment, reach);
    }
}
