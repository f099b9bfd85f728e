using System.ComponentModel.DataAnnotations;
using System.Text.Json.Nodes;
using Proxy.Core.Routing;

namespace Portal.Components.Pages.Teams;

/// <summary>
/// A team's router settings as the portal edits them. It becomes the same <c>router_settings</c> JSON the REST API
/// takes, read by the same parser, so both are checked alike (and the core decides which models may be fallbacks).
/// </summary>
public sealed class RoutingForm
{
    public string Strategy { get; set; } = RouterSettings.SimpleShuffle;

    [Range(0, 10, ErrorMessage = "Retries: 0 to 10.")]
    public int? NumRetries { get; set; }

    [Range(1, 1000, ErrorMessage = "Failures before a cooldown: 1 to 1000.")]
    public int? AllowedFails { get; set; }

    [Range(1, 86400, ErrorMessage = "Cooldown: 1 to 86400 seconds.")]
    public int? CooldownSeconds { get; set; }

    public List<FallbackRow> Fallbacks { get; set; } = [];
    public List<FallbackRow> ContextWindowFallbacks { get; set; } = [];

    public static RoutingForm From(RouterSettings settings) => new()
    {
        Strategy = settings.RoutingStrategy,
        NumRetries = settings.NumRetries,
        AllowedFails = settings.AllowedFails,
        CooldownSeconds = settings.CooldownTime is { } c ? (int)c.TotalSeconds : null,
        Fallbacks = Rows(settings.Fallbacks),
        ContextWindowFallbacks = Rows(settings.ContextWindowFallbacks),
    };

    /// <summary>Throws the core's 400 for anything wrong; rows without a model are left out.</summary>
    public RouterSettings ToSettings()
    {
        var json = new JsonObject { ["routing_strategy"] = Strategy, ["fallbacks"] = Json(Fallbacks), ["context_window_fallbacks"] = Json(ContextWindowFallbacks) };
        if (NumRetries is { } retries) json["num_retries"] = retries;
        if (AllowedFails is { } fails) json["allowed_fails"] = fails;
        if (CooldownSeconds is { } seconds) json["cooldown_time"] = seconds;
        return RouterSettings.Parse(json);
    }

    /// <summary>"simple-shuffle · my-team-model → my-backup-model", for the team page.</summary>
    public static string Describe(RouterSettings s) =>
        string.Join(" · ", new[] { s.RoutingStrategy }
            .Concat(s.Fallbacks.Select(f => $"{f.Key} → {string.Join(", ", f.Value)}"))
            .Concat(s.ContextWindowFallbacks.Select(f => $"{f.Key} → {string.Join(", ", f.Value)} (context window)")));

    private static List<FallbackRow> Rows(IReadOnlyDictionary<string, string[]> map) =>
        [.. map.Select(f => new FallbackRow { Model = f.Key, Targets = string.Join(", ", f.Value) })];

    private static JsonArray Json(List<FallbackRow> rows) => new([.. rows.Where(r => !string.IsNullOrWhiteSpace(r.Model)).Select(r => (JsonNode)new JsonObject
    {
        [r.Model.Trim()] = new JsonArray([.. r.Targets.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(t => (JsonNode)t)]),
    })]);
}

public sealed class FallbackRow
{
    public string Model { get; set; } = "";

    /// <summary>Comma-separated public model names, tried in order.</summary>
    public string Targets { get; set; } = "";
}
