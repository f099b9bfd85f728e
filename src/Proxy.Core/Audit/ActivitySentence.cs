using System.Globalization;
using System.Text.Json.Nodes;

namespace Proxy.Core.Audit;

/// <summary>
/// An audit event as a person reads it: "lena@example.com blocked key ci-pipeline", with the fields an update changed
/// (before → after). People, keys and teams are named (email, key alias or masked key, team alias), never by id; the
/// names come from <paramref name="Names"/> of <see cref="Of"/> (id → name, see <see cref="AuditLog.NamesAsync"/>).
/// </summary>
public sealed record ActivitySentence(string Who, string What, IReadOnlyList<ActivitySentence.Change> Changes)
{
    /// <summary>One changed field: its name as the API spells it, and its values before and after, as text.</summary>
    public sealed record Change(string Field, string From, string To);

    public string Text => $"{Who} {What}";

    public static ActivitySentence Of(AuditEvent e, IReadOnlyDictionary<string, string> names)
    {
        var details = Parse(e.Details);
        string Name(string? id) => id is null ? "?" : names.TryGetValue(id, out var name) ? name : id;
        var key = KeyName(details, e.TargetId);
        var member = Str(details, "user_email") ?? Name(Str(details, "user_id") ?? e.TargetId);
        var user = Str(details, "email") ?? Name(e.TargetId);
        var team = Str(details, "team_alias") ?? Name(e.TeamId ?? e.TargetId);
        var model = ModelName(details);
        var what = e.Action switch
        {
            "key.generate" => $"created key {key}",
            "key.block" => $"blocked key {key}",
            "key.unblock" => $"unblocked key {key}",
            "key.update" => $"changed key {key}",
            "key.regenerate" => $"regenerated key {key}",
            "key.delete" => $"deleted key {key}",
            "model.create" => $"registered model {model}",
            "model.update" => $"changed model {model}",
            "model.delete" => $"deleted model {model}",
            "team.create" => $"created team {team}",
            "team.delete" => $"deleted team {team}",
            "team.update" => Bool(details, "blocked") switch
            {
                true => $"blocked team {team}",
                false => $"unblocked team {team}",
                null => $"changed team {team}",
            },
            "team.member_add" => $"added {member} as {RoleName(Str(details, "role"))}",
            // A budget change names the budget; else the update changed the role (the event holds the role either way).
            "team.member_update" => details?["max_budget_in_team"] is { } budget
                ? $"set {member}'s budget in the team to {Shown(budget)}"
                : $"made {member} {(Str(details, "role") == Teams.TeamRole.Admin ? "an admin" : "a member")}",
            "team.member_delete" => $"removed {member} from the team",
            "user.create" => $"created the account {user}",
            "user.invite" => $"made an invite link for {user}",
            "user.proxy_admin" => Bool(details, "is_proxy_admin") == true ? $"made {user} a proxy admin" : $"removed {user}'s proxy admin rights",
            "user.disabled" => Bool(details, "disabled") == true ? $"disabled {user}" : $"enabled {user}",
            "budget.alert" => $"sent a budget alert ({Str(details, "event") ?? "budget"}) for {(Str(details, "key") is null ? $"team {team}" : $"key {key}")}",
            _ => $"{e.Action} {Name(e.TargetId)}",
        };
        return new ActivitySentence(Actor(e.Actor), what, ChangesOf(details, names));
    }

    /// <summary>Who acted: the portal user's email, a masked key, or what acted on its own.</summary>
    private static string Actor(string actor) => actor switch
    {
        "master_key" => "The master key",
        "gateway" => "The gateway",
        "sso" => "Single sign-on",
        _ when actor.StartsWith("user:", StringComparison.Ordinal) => actor["user:".Length..],
        _ => $"Key {actor}",
    };

    /// <summary>A key by its alias when it has one, else its masked form; never its hash.</summary>
    private static string KeyName(JsonObject? details, string? target) =>
        Str(details, "key_alias") ?? Str(details, "key_name") ?? Str(details, "key") ?? target ?? "?";

    /// <summary>"my-team-model (openai/gpt-4o)": the public name and what it reaches.</summary>
    private static string ModelName(JsonObject? details)
    {
        var name = Str(details, "model_name") ?? "?";
        var upstream = Str(details, "model");
        var provider = Str(details, "provider");
        if (upstream is null)
        {
            return name;
        }
        return provider is null || upstream.StartsWith(provider + "/", StringComparison.Ordinal) ? $"{name} ({upstream})" : $"{name} ({provider}/{upstream})";
    }

    private static string RoleName(string? role) => role == Teams.TeamRole.Admin ? "admin" : "member";

    private static IReadOnlyList<Change> ChangesOf(JsonObject? details, IReadOnlyDictionary<string, string> names)
    {
        if (details?[AuditChanges.Field] is not JsonObject changes)
        {
            return [];
        }
        // A changed owner or team is an id in the stored event; the sentence names it.
        string Value(string field, JsonNode? value) =>
            value is JsonValue v && v.TryGetValue<string>(out var s) && field is "user_id" or "team_id" && names.TryGetValue(s, out var name) ? name : Shown(value);
        return [.. changes.Select(c => new Change(c.Key, Value(c.Key, c.Value?["from"]), Value(c.Key, c.Value?["to"])))];
    }

    /// <summary>A value as a person reads it: "none" for null or empty, numbers as written, lists comma-separated.</summary>
    private static string Shown(JsonNode? value) => value switch
    {
        null => "none",
        JsonValue v when v.TryGetValue<string>(out var s) => s.Length == 0 ? "none" : s,
        JsonValue v when v.TryGetValue<bool>(out var b) => b ? "yes" : "no",
        JsonValue v when v.TryGetValue<double>(out var d) => d.ToString(CultureInfo.InvariantCulture),
        JsonArray { Count: 0 } => "none",
        JsonArray a => string.Join(", ", a.Select(Shown)),
        JsonObject { Count: 0 } => "none",
        _ => value.ToJsonString(),
    };

    /// <summary>The event's details as an object; null when there are none or they are not a JSON object.</summary>
    public static JsonObject? Parse(string? json)
    {
        try
        {
            return json is null ? null : JsonNode.Parse(json) as JsonObject;
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
    }

    private static string? Str(JsonObject? details, string field) =>
        details?[field] is JsonValue v && v.TryGetValue<string>(out var s) && s.Length > 0 ? s : null;

    private static bool? Bool(JsonObject? details, string field) =>
        details?[field] is JsonValue v && v.TryGetValue<bool>(out var b) ? b : null;
}
