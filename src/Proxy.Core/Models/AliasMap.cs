using Microsoft.EntityFrameworkCore;
using Proxy.Core.Persistence;

namespace Proxy.Core.Models;

/// <summary>
/// A team's <c>model_aliases</c> and a key's <c>aliases</c> (docs/api.md sections 3 and 5): a name the caller sends →
/// the model name it stands for. Checked when written, so a stored alias names a model its owner could call then; calls
/// check the target again (<see cref="Routing.ModelCatalog.Unalias"/>), as models and <c>models</c> lists change.
/// </summary>
internal static class AliasMap
{
    public const int MaxEntries = 256;

    /// <summary>The map trimmed and checked for shape: non-empty names and targets of printable text, at most <see cref="MaxEntries"/>.</summary>
    public static Dictionary<string, string> Valid(IReadOnlyDictionary<string, string> aliases, string param)
    {
        if (aliases.Count > MaxEntries)
        {
            throw ProxyError.BadRequest($"{param} has {aliases.Count} entries, at most {MaxEntries} allowed.", param);
        }
        var valid = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, target) in aliases)
        {
            var trimmed = Check.Text(name, param);
            if (string.IsNullOrEmpty(trimmed))
            {
                throw ProxyError.BadRequest($"{param} has an empty alias name: each entry is \"name you call\": \"model it stands for\".", param);
            }
            if (string.IsNullOrWhiteSpace(target))
            {
                throw ProxyError.BadRequest($"{param}.{trimmed} needs the model name it stands for.", param);
            }
            if (!valid.TryAdd(trimmed, Check.Text(target, param)))
            {
                throw ProxyError.BadRequest($"{param} names alias {trimmed} twice.", param);
            }
        }
        return valid;
    }

    /// <summary>
    /// Refuses an alias whose name would hide one of the team's own public model names, or whose target the owner cannot
    /// call (<paramref name="mayCall"/>: name, is it the team's own model, is it a global model). The refusal reads the
    /// same whether the target does not exist or belongs to another team.
    /// </summary>
    public static async Task DemandCallableAsync(PortalDb db, string? teamId, Dictionary<string, string> aliases,
        Func<string, bool, bool, bool> mayCall, string param, string owner, CancellationToken ct)
    {
        if (aliases.Count == 0)
        {
            return;
        }
        var names = aliases.Keys.Concat(aliases.Values).Distinct(StringComparer.Ordinal).ToList();
        var own = teamId is null ? []
            : await db.Aliases.Where(a => a.TeamId == teamId && names.Contains(a.PublicName)).Select(a => a.PublicName).ToListAsync(ct);
        var global = await db.Deployments.Where(d => d.TeamId == null && names.Contains(d.ModelName)).Select(d => d.ModelName).Distinct().ToListAsync(ct);
        foreach (var (name, target) in aliases)
        {
            if (own.Contains(name))
            {
                throw ProxyError.BadRequest($"{param}: {name} is one of team {teamId}'s own model names; an alias cannot hide it. Pick another alias name.", param);
            }
            if (!mayCall(target, own.Contains(target), global.Contains(target)))
            {
                throw ProxyError.BadRequest(
                    $"{param}: {name} → {target}: {owner} cannot call model {target}. An alias names one of the team's own models or a global model the models lists allow.",
                    param);
            }
        }
    }
}
