using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Proxy.Core.Routing;

/// <summary>
/// How the router treats a team's model groups: LiteLLM's <c>router_settings</c> (on <c>/team/update</c>), over the
/// gateway's defaults (<see cref="RoutingOptions"/>).
/// </summary>
public sealed record RouterSettings(
    string RoutingStrategy,
    IReadOnlyDictionary<string, string[]> Fallbacks,
    IReadOnlyDictionary<string, string[]> ContextWindowFallbacks,
    int? NumRetries,
    int? AllowedFails,
    TimeSpan? CooldownTime)
{
    public const string SimpleShuffle = "simple-shuffle";
    public const string LeastBusy = "least-busy";
    public const string LatencyBased = "latency-based-routing";

    public static readonly IReadOnlyList<string> Strategies = [SimpleShuffle, LeastBusy, LatencyBased];

    public static readonly RouterSettings Default = new(SimpleShuffle, new Dictionary<string, string[]>(), new Dictionary<string, string[]>(), null, null, null);

    private static readonly HashSet<string> Fields = ["routing_strategy", "fallbacks", "context_window_fallbacks", "num_retries", "allowed_fails", "cooldown_time"];

    /// <summary>The public model names this team's settings name as fallbacks, for the rule book's check.</summary>
    public IEnumerable<string> NamedModels =>
        Fallbacks.Concat(ContextWindowFallbacks).SelectMany(f => f.Value.Prepend(f.Key)).Distinct(StringComparer.Ordinal);

    /// <summary>Reads <c>router_settings</c> as given to <c>/team/update</c>; a 400 naming the field for anything wrong or not supported.</summary>
    public static RouterSettings Parse(JsonObject json)
    {
        if (json.Select(p => p.Key).FirstOrDefault(k => !Fields.Contains(k)) is { } unknown)
        {
            throw ProxyError.BadRequest(
                $"router_settings.{unknown} is not supported by this gateway. It takes {string.Join(", ", Fields.Order(StringComparer.Ordinal))}.", $"router_settings.{unknown}");
        }
        var strategy = json["routing_strategy"] switch
        {
            null => SimpleShuffle,
            JsonValue v when v.GetValueKind() == JsonValueKind.String && Strategies.Contains(v.GetValue<string>()) => v.GetValue<string>(),
            _ => throw ProxyError.BadRequest($"router_settings.routing_strategy must be one of {string.Join(", ", Strategies)}.", "router_settings.routing_strategy"),
        };
        return new RouterSettings(strategy, FallbackMap(json, "fallbacks"), FallbackMap(json, "context_window_fallbacks"),
            Whole(json, "num_retries", 0, Forwarding.CallOptions.MaxRetries), Whole(json, "allowed_fails", 1, 1000),
            Whole(json, "cooldown_time", 1, 86400) is { } seconds ? TimeSpan.FromSeconds(seconds) : null);
    }

    /// <summary>The settings as stored and shown: the same shape <see cref="Parse"/> takes.</summary>
    public JsonObject ToJson()
    {
        var json = new JsonObject { ["routing_strategy"] = RoutingStrategy };
        json["fallbacks"] = Map(Fallbacks);
        json["context_window_fallbacks"] = Map(ContextWindowFallbacks);
        if (NumRetries is { } retries) json["num_retries"] = retries;
        if (AllowedFails is { } fails) json["allowed_fails"] = fails;
        if (CooldownTime is { } cooldown) json["cooldown_time"] = (int)cooldown.TotalSeconds;
        return json;

        static JsonArray Map(IReadOnlyDictionary<string, string[]> map) =>
            new([.. map.Select(f => (JsonNode)new JsonObject { [f.Key] = new JsonArray([.. f.Value.Select(v => (JsonNode)v)]) })]);
    }

    /// <summary>The stored form read back (it was validated when stored); null or empty gives the defaults.</summary>
    public static RouterSettings FromStored(string? json) => json is null ? Default : Parse(JsonNode.Parse(json)!.AsObject());

    /// <summary>LiteLLM's shape: <c>[{"my-team-model": ["my-backup-model"]}, ...]</c>.</summary>
    private static Dictionary<string, string[]> FallbackMap(JsonObject json, string field)
    {
        var map = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (json[field] is null)
        {
            return map;
        }
        var error = $"router_settings.{field} must be a list like [{{\"my-team-model\": [\"my-backup-model\"]}}].";
        foreach (var entry in json[field] as JsonArray ?? throw ProxyError.BadRequest(error, $"router_settings.{field}"))
        {
            foreach (var (model, targets) in entry as JsonObject ?? throw ProxyError.BadRequest(error, $"router_settings.{field}"))
            {
                var names = (targets as JsonArray ?? throw ProxyError.BadRequest(error, $"router_settings.{field}"))
                    .Select(t => t is JsonValue v && v.GetValueKind() == JsonValueKind.String && v.GetValue<string>() is { Length: > 0 } name
                        ? name : throw ProxyError.BadRequest(error, $"router_settings.{field}"))
                    .ToArray();
                if (names.Length > Forwarding.CallOptions.MaxFallbacks)
                {
                    throw ProxyError.BadRequest($"router_settings.{field} names {names.Length} fallbacks for {model}; at most {Forwarding.CallOptions.MaxFallbacks} are tried.", $"router_settings.{field}");
                }
                if (names.Contains(model, StringComparer.Ordinal))
                {
                    throw ProxyError.BadRequest($"router_settings.{field}: {model} cannot fall back to itself.", $"router_settings.{field}");
                }
                map[model] = names;
            }
        }
        return map;
    }

    private static int? Whole(JsonObject json, string field, int min, int max) => json[field] switch
    {
        null => null,
        JsonValue v when v.GetValueKind() == JsonValueKind.Number && v.TryGetValue<int>(out var n) && n >= min && n <= max => n,
        _ => throw ProxyError.BadRequest(string.Create(CultureInfo.InvariantCulture, $"router_settings.{field} must be a whole number from {min} to {max}."), $"router_settings.{field}"),
    };
}

/// <summary>The <c>Proxy:Routing</c> section: the gateway's defaults for every team's router.</summary>
public sealed class RoutingOptions
{
    public const string Section = "Proxy:Routing";

    /// <summary>Retries of a failed call on the group's deployments (LiteLLM's <c>num_retries</c>).</summary>
    public int NumRetries { get; set; } = 2;

    /// <summary>Failures within a minute after which a deployment cools down.</summary>
    public int AllowedFails { get; set; } = 3;

    public TimeSpan CooldownTime { get; set; } = TimeSpan.FromSeconds(30);
}
