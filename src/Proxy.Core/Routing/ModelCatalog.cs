using Proxy.Core.Access;

namespace Proxy.Core.Routing;

/// <summary>
/// Which models a caller can call, and which deployments a model name means for it (docs/api.md section 6): the team's
/// alias table first, then the global models its key's and team's <c>models</c> lists allow (after <see cref="Unalias"/>
/// on LLM calls). Reads only the snapshot.
/// </summary>
public sealed class ModelCatalog(RouteTable routes)
{
    /// <summary>The deployment group for <paramref name="model"/>, or null when the caller may not call it (or it does not exist).</summary>
    public DeploymentEntry[]? Resolve(Caller caller, string model)
    {
        var snapshot = routes.Current;
        var team = caller.KeyTeamId is { } teamId ? snapshot.Teams.GetValueOrDefault(teamId) : null;
        if (team is not null && team.Aliases.TryGetValue(model, out var internalName))
        {
            return snapshot.Groups.GetValueOrDefault(internalName);
        }
        return snapshot.Groups.TryGetValue(model, out var group) && group[0].TeamId is null && Rules.MayUseGlobalModel(caller, team, model)
            ? group
            : null;
    }

    /// <summary>
    /// The model name <paramref name="model"/> stands for after the caller's model aliases, in LiteLLM's order: the
    /// team's <c>model_aliases</c>, then the key's <c>aliases</c> applied to that result; each one exact lookup, no
    /// chaining; the name itself when none matches. The result is then resolved by <see cref="Resolve"/> like any name
    /// the caller sent, so an alias never reaches a model the caller could not call by its own name. Reads only the
    /// snapshot's entries the caller already holds; allocates nothing.
    /// </summary>
    public static string Unalias(Caller caller, string model)
    {
        if (caller.Team is { } team && team.ModelAliases.TryGetValue(model, out var teamTarget))
        {
            model = teamTarget;
        }
        if (caller.Key is { } key && key.Aliases.TryGetValue(model, out var keyTarget))
        {
            model = keyTarget;
        }
        return model;
    }

    /// <summary>A deployment by its model id, whoever owns it; callers check access themselves.</summary>
    public DeploymentEntry? Deployment(string modelId)
    {
        foreach (var group in routes.Current.Groups.Values)
        {
            foreach (var deployment in group)
            {
                if (deployment.ModelId == modelId)
                {
                    return deployment;
                }
            }
        }
        return null;
    }

    /// <summary>
    /// Public names for <c>/v1/models</c>: the team's aliases and the global models the caller may use. Never internal
    /// names, and not the names of <c>model_aliases</c>/<c>aliases</c> (LiteLLM lists model groups, not aliases).
    /// </summary>
    public IReadOnlyList<string> CallableNames(Caller caller)
    {
        var snapshot = routes.Current;
        var team = caller.KeyTeamId is { } teamId ? snapshot.Teams.GetValueOrDefault(teamId) : null;
        var names = new List<string>();
        if (team is not null)
        {
            names.AddRange(team.Aliases.Keys.Order(StringComparer.Ordinal));
        }
        names.AddRange(snapshot.GlobalModelNames.Where(n => Rules.MayUseGlobalModel(caller, team, n) && !names.Contains(n)));
        return names;
    }
}
