using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Proxy.Core.Spend;

namespace Proxy.Core.Alerts;

/// <summary>
/// The JSON body of one alert (docs/budgets.md, "Alerts"): the event, whose budget, its spend, limits and period, and
/// a <c>text</c> sentence, which is all a Slack incoming webhook reads. Names a key by its masked form only.
/// </summary>
public sealed record AlertMessage(
    BudgetAlert Alert, string? TeamId, string? TeamAlias, string? KeyAlias, string? MaskedKey, string? BudgetDuration, DateTime? BudgetResetAt)
{
    public string Event => BudgetThresholds.EventName(Alert.Threshold);

    /// <summary>Whose budget: <c>key</c> or <c>team</c>.</summary>
    public string Scope => Alert.Kind == AccountKind.Key ? "key" : "team";

    public JsonObject ToJson() => new()
    {
        ["event"] = Event,
        ["scope"] = Scope,
        ["team_id"] = TeamId,
        ["team_alias"] = TeamAlias,
        ["key_alias"] = KeyAlias,
        ["key"] = MaskedKey,
        ["spend"] = Alert.Spend,
        ["max_budget"] = Alert.MaxBudget,
        ["soft_budget"] = Alert.SoftBudget,
        ["budget_duration"] = BudgetDuration,
        ["budget_reset_at"] = BudgetResetAt,
        ["text"] = Text(),
    };

    public byte[] Body() => JsonSerializer.SerializeToUtf8Bytes(ToJson());

    /// <summary>One sentence, e.g. <c>Key sk-...abcd (ci-bot) of team Research has reached 80% of its budget: $8.10 of $10.00, resetting 2026-12-01 00:00 UTC.</c></summary>
    public string Text()
    {
        var team = TeamAlias ?? TeamId;
        var who = Alert.Kind == AccountKind.Key
            ? $"Key {MaskedKey}{(KeyAlias is null ? "" : $" ({KeyAlias})")}{(team is null ? "" : $" of team {team}")}"
            : $"Team {team}";
        var what = Alert.Threshold switch
        {
            BudgetThreshold.SoftBudget => $"has crossed its soft budget: {Usd(Alert.Spend)} spent, soft budget {Usd(Alert.SoftBudget)}",
            BudgetThreshold.EightyPercent => $"has reached 80% of its budget: {Usd(Alert.Spend)} of {Usd(Alert.MaxBudget)}",
            _ => $"has reached its budget: {Usd(Alert.Spend)} of {Usd(Alert.MaxBudget)}; further calls are refused",
        };
        var period = BudgetResetAt is { } reset
            ? $", until the budget resets at {reset.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)} UTC."
            : ".";
        return who + " " + what + period;
    }

    private static string Usd(double? amount) => amount is { } a ? "$" + a.ToString("0.00####", CultureInfo.InvariantCulture) : "none";
}
