using Microsoft.EntityFrameworkCore;
using Proxy.Core.Persistence;

namespace Proxy.Core.Models;

/// <summary>
/// A team's <c>model_aliases</c> and a key's <c>aliases</c> (docs/api.md sections 3 and 5): a name the caller sends →
/// the model name it stands for. Written with its shape checked; a call checks the target by the rule book
/// (<see cref="Routing.ModelCatalog.Unalias"/>), as models and <c>models</c> lists change.
/// </summary>
internal static class AliasMap
{
    public const int MaxEntries = 256;

    /// <summary>The map trimmed and checked for shape: non-empty names and targets of printable text, at most <see cref="MaxEntries"/>.</summary>
    private static Dictionary<string, string> Valid(IReadOnlyDictionary<string, string> aliases, string param)
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

    /// <summary>The map as stored: <see cref="Valid"/>, and no name hiding one of the team's models (<see cref="DemandNoHiddenModelAsync"/>).</summary>
    public static async Task<Dictionary<string, string>> CheckedAsync(PortalDb db, string? teamId, IReadOnlyDictionary<string, string> aliases, string param, CancellationToken ct)
    {
        var valid = Valid(aliases, param);
        await DemandNoHiddenModelAsync(db, teamId, valid, param, ct);
        return valid;
    }

    /// <summary>
    /// Refuses an alias whose name would hide one of the team's own public model names. Targets are not checked here:
    /// LiteLLM's scripts alias models that a key's <c>models</c> list names later or never, and a call checks the
    /// target by the rule book, so an alias never reaches a model its caller could not call by name.
    /// </summary>
    private static async Task DemandNoHiddenModelAsync(PortalDb db, string? teamId, Dictionary<string, string> aliases, string param, CancellationToken ct)
    {
        if (aliases.Count == 0 || teamId is null)
        {
            return;
        }
        var names = aliases.Keys.ToList();
        var hidden = await db.Aliases.Where(a => a.TeamId == teamId && names.Contains(a.PublicName)).Select(a => a.PublicName).FirstOrDefaultAsync(ct);
        if (hidden is not null)
        {
            throw ProxyError.BadRequest($"{param}: {hidden} is one of team {teamId}'s own model names; an alias cannot hide it. Pick another alias name.", param);
        }
    }
}
