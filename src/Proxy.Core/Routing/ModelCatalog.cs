using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Proxy.Core.Access;
using Proxy.Core.Spend;

namespace Proxy.Core.Routing;

/// <summary>
/// Which models a caller can call, and which deployments a model name means for it (docs/api.md section 6): the team's
/// alias table first, then the global models its key's and team's <c>models</c> lists allow, then the wildcard
/// deployments (<c>openai/*</c>, <c>*</c>) in the same order, team before global (after <see cref="Unalias"/> on LLM
/// calls). Reads only the snapshot.
/// </summary>
public sealed class ModelCatalog(RouteTable routes, PriceTable prices)
{
    /// <summary>A wildcard group's concrete groups are kept at most for this many model names (names are the callers' to choose).</summary>
    private const int MaxConcreteModels = 1024;

    /// <summary>A wildcard group → its concrete groups by captured name; dropped with the snapshot's group array.</summary>
    private readonly ConditionalWeakTable<DeploymentEntry[], ConcurrentDictionary<string, DeploymentEntry[]>> _concrete = new();

    /// <summary>The deployment group for <paramref name="model"/>, or null when the caller may not call it (or it does not exist).</summary>
    public DeploymentEntry[]? Resolve(Caller caller, string model)
    {
        var snapshot = routes.Current;
        var team = caller.KeyTeamId is { } teamId ? snapshot.Teams.GetValueOrDefault(teamId) : null;
        if (team is not null && team.Aliases.TryGetValue(model, out var internalName))
        {
            return snapshot.Groups.GetValueOrDefault(internalName) is { } own && !own[0].IsWildcard ? own : null;
        }
        if (snapshot.Groups.TryGetValue(model, out var group) && group[0].TeamId is null)
        {
            return Rules.MayUseGlobalModel(caller, team, model) && !group[0].IsWildcard ? group : null;
        }
        return ResolveWildcard(snapshot, caller, team, model);
    }

    /// <summary>
    /// A name no exact model has: the team's wildcard deployments, then the global ones the caller's <c>models</c> lists
    /// allow for that name; the longest matching pattern wins. Each deployment's <c>*</c> gets the captured name.
    /// </summary>
    private DeploymentEntry[]? ResolveWildcard(RouteSnapshot snapshot, Caller caller, TeamEntry? team, string model)
    {
        if (team is not null)
        {
            foreach (var pattern in team.Wildcards)
            {
                if (ModelPattern.Capture(pattern, model) is { } captured && snapshot.Groups.TryGetValue(team.Aliases[pattern], out var own))
                {
                    return Concrete(own, captured);
                }
            }
        }
        foreach (var pattern in snapshot.GlobalWildcards)
        {
            if (ModelPattern.Capture(pattern, model) is { } captured && snapshot.Groups.TryGetValue(pattern, out var global))
            {
                return Rules.MayUseGlobalModel(caller, team, model) ? Concrete(global, captured) : null;
            }
        }
        return null;
    }

    /// <summary>The group for one concrete model: each wildcard deployment with its upstream name and price filled in.</summary>
    private DeploymentEntry[] Concrete(DeploymentEntry[] group, string captured)
    {
        var cache = _concrete.GetValue(group, _ => new ConcurrentDictionary<string, DeploymentEntry[]>(StringComparer.Ordinal));
        if (cache.TryGetValue(captured, out var concrete))
        {
            return concrete;
        }
        concrete = Array.ConvertAll(group, d =>
        {
            if (!d.IsWildcard)
            {
                return d;
            }
            var upstream = ModelPattern.Upstream(d, captured);
            // A wildcard's own price (model_info) applies to all its models; otherwise the price table's for this one.
            return d.ForModel(upstream, d.Price ?? prices.For(d.Provider, upstream, null, null));
        });
        if (cache.Count < MaxConcreteModels)
        {
            cache.TryAdd(captured, concrete);
        }
        return concrete;
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
    /// Public names for <c>/v1/models</c>: the team's aliases and the global models the caller may use, never internal
    /// names, and not the names of <c>model_aliases</c>/<c>aliases</c> (LiteLLM lists model groups, not aliases). A
    /// wildcard deployment is listed as its pattern followed, with <paramref name="expandWildcards"/>, by the price
    /// table's models of its provider under the pattern's prefix (<c>openai/*</c> → <c>openai/gpt-4o</c>, ...), as
    /// LiteLLM lists a wildcard with its provider's known models; <c>*</c> alone expands to nothing.
    /// </summary>
    public IReadOnlyList<string> CallableNames(Caller caller, bool expandWildcards = true)
    {
        var snapshot = routes.Current;
        var team = caller.KeyTeamId is { } teamId ? snapshot.Teams.GetValueOrDefault(teamId) : null;
        var names = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        void Add(string name)
        {
            if (seen.Add(name))
            {
                names.Add(name);
            }
        }
        if (team is not null)
        {
            foreach (var name in team.Aliases.Keys.Order(StringComparer.Ordinal))
            {
                Add(name);
                if (expandWildcards && ModelPattern.IsPattern(name) && snapshot.Groups.TryGetValue(team.Aliases[name], out var group))
                {
                    foreach (var known in Expansions(name, group))
                    {
                        Add(known);
                    }
                }
            }
        }
        foreach (var name in snapshot.GlobalModelNames)
        {
            if (Rules.MayUseGlobalModel(caller, team, name))
            {
                Add(name);
            }
            if (expandWildcards && ModelPattern.IsPattern(name) && snapshot.Groups.TryGetValue(name, out var group))
            {
                foreach (var known in Expansions(name, group).Where(n => Rules.MayUseGlobalModel(caller, team, n)))
                {
                    Add(known);
                }
            }
        }
        return names;
    }

    /// <summary>
    /// <c>/model_group/info</c>'s groups: every name of <see cref="CallableNames"/> with the deployments it means for
    /// the caller (a wildcard's pattern with its own deployments); only <paramref name="modelGroup"/> when given.
    /// </summary>
    public IReadOnlyList<(string Name, DeploymentEntry[] Group)> CallableGroups(Caller caller, string? modelGroup = null)
    {
        var snapshot = routes.Current;
        var team = caller.KeyTeamId is { } teamId ? snapshot.Teams.GetValueOrDefault(teamId) : null;
        var groups = new List<(string, DeploymentEntry[])>();
        foreach (var name in CallableNames(caller))
        {
            if (modelGroup is not null && name != modelGroup)
            {
                continue;
            }
            var group = ModelPattern.IsPattern(name)
                ? (team is not null && team.Aliases.TryGetValue(name, out var internalName) ? snapshot.Groups.GetValueOrDefault(internalName) : snapshot.Groups.GetValueOrDefault(name))
                : Resolve(caller, name);
            if (group is not null)
            {
                groups.Add((name, group));
            }
        }
        return groups;
    }

    /// <summary>
    /// What a call of <paramref name="model"/> with a key of team <paramref name="teamId"/> costs per token: the team's
    /// alias table first, then a global model of that name; the first of its deployments with a price, as
    /// <c>/model_group/info</c> gives a group's. Null when none has a price, or no such model. Whether the team may call
    /// a global model is not checked: the portal asks for the names it already offers.
    /// </summary>
    public Price? PriceFor(string teamId, string model)
    {
        var snapshot = routes.Current;
        var group = snapshot.Teams.GetValueOrDefault(teamId) is { } team && team.Aliases.TryGetValue(model, out var internalName)
            ? snapshot.Groups.GetValueOrDefault(internalName)
            : snapshot.Groups.GetValueOrDefault(model) is { } global && global[0].TeamId is null ? global : null;
        return group?.Select(d => d.Price).FirstOrDefault(p => p is not null);
    }

    /// <summary>The known models a wildcard group serves, as callers name them: the price table's models of its provider under the pattern's prefix.</summary>
    private IEnumerable<string> Expansions(string pattern, DeploymentEntry[] group)
    {
        var prefix = pattern[..^1];
        return prefix.Length == 0 || !group[0].IsWildcard ? [] : prices.ModelsOf(group[0].Provider).Select(model => prefix + model);
    }
}
