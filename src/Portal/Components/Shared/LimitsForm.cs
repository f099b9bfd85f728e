using System.ComponentModel.DataAnnotations;
using Proxy.Core;
using Proxy.Core.Keys;
using Proxy.Core.Teams;

namespace Portal.Components.Shared;

/// <summary>
/// A key's or a team's budget and rate limits as the portal edits them. An empty field means "no limit", and the
/// form always sends every field, so clearing one removes the limit (as <c>null</c> does in the REST API).
/// </summary>
public sealed class LimitsForm
{
    /// <summary>The periods offered (calendar periods, see Budget.NextReset); a stored value outside them (set through the API) is offered too.</summary>
    public static readonly IReadOnlyList<(string Value, string Label)> Periods =
        [("", "Never resets"), ("1d", "Daily, at midnight UTC"), ("7d", "Weekly, on Monday 00:00 UTC"), ("1mo", "Monthly, on the 1st 00:00 UTC")];

    /// <summary>How a stored period outside <see cref="Periods"/> reads: 30d and 1w reset on the calendar too, so "every 30d" would mislead.</summary>
    public static string OtherPeriodLabel(string value) => value switch
    {
        "30d" => "Monthly, on the 1st 00:00 UTC (30d)",
        "1w" => "Weekly, on Monday 00:00 UTC (1w)",
        _ => $"Every {value}, from when it was set",
    };

    [Range(0, 1e12, ErrorMessage = "The budget is a positive amount of USD, or empty for none.")]
    public double? MaxBudget { get; set; }

    public string BudgetDuration { get; set; } = "";

    [Range(0, 1e12, ErrorMessage = "The soft budget is a positive amount of USD, or empty for none.")]
    public double? SoftBudget { get; set; }

    /// <summary>A team's alert webhook: what is typed replaces the stored one; empty keeps it (the stored one is shown masked only).</summary>
    [Url(ErrorMessage = "The alert webhook is an http(s) URL, e.g. https://hooks.slack.com/services/..., or empty to keep the current one.")]
    public string? AlertWebhookUrl { get; set; }

    /// <summary>Removes the team's alert webhook.</summary>
    public bool RemoveAlertWebhook { get; set; }

    [Range(0, long.MaxValue, ErrorMessage = "Requests per minute: a whole number, or empty for no limit.")]
    public long? RpmLimit { get; set; }

    [Range(0, long.MaxValue, ErrorMessage = "Tokens per minute: a whole number, or empty for no limit.")]
    public long? TpmLimit { get; set; }

    [Range(0, int.MaxValue, ErrorMessage = "Calls in flight: a whole number, or empty for no limit.")]
    public int? MaxParallelRequests { get; set; }

    /// <summary>A key's <c>model_max_budget</c>, one row per model; only keys have them (<see cref="EditsModelBudgets"/>).</summary>
    public List<ModelBudgetRow> ModelBudgets { get; set; } = [];

    /// <summary>The form is a key's: it shows and sends the model budgets (the whole set, as /key/update replaces it).</summary>
    public bool EditsModelBudgets { get; init; }

    /// <summary>The limits of a key about to be created: its model budgets too.</summary>
    public static LimitsForm ForNewKey() => new() { EditsModelBudgets = true };

    public static LimitsForm From(VirtualKey k) => new()
    {
        MaxBudget = k.MaxBudget, BudgetDuration = k.BudgetDuration ?? "", SoftBudget = k.SoftBudget, RpmLimit = k.RpmLimit, TpmLimit = k.TpmLimit,
        MaxParallelRequests = k.MaxParallelRequests,
        EditsModelBudgets = true,
        ModelBudgets = [.. k.ModelBudgets.OrderBy(b => b.Model, StringComparer.Ordinal).Select(b => new ModelBudgetRow { Model = b.Model, BudgetLimit = b.BudgetLimit, TimePeriod = b.TimePeriod ?? "" })],
    };

    public static LimitsForm From(Team t) => new()
    {
        MaxBudget = t.MaxBudget, BudgetDuration = t.BudgetDuration ?? "", SoftBudget = t.SoftBudget, RpmLimit = t.RpmLimit, TpmLimit = t.TpmLimit,
    };

    /// <summary>Every limit given: what is empty here is removed.</summary>
    public KeyInput ApplyTo(KeyInput input) => input with
    {
        MaxBudget = MaxBudget,
        BudgetDuration = Duration,
        SoftBudget = SoftBudget,
        RpmLimit = RpmLimit,
        TpmLimit = TpmLimit,
        MaxParallelRequests = MaxParallelRequests,
        ModelMaxBudget = EditsModelBudgets ? ModelMaxBudget() : input.ModelMaxBudget,
    };

    /// <summary>The rows that name a model; a row without a limit is sent as such, for the service's 400 to name it.</summary>
    private Dictionary<string, ModelBudgetInput> ModelMaxBudget() =>
        ModelBudgets.Where(r => !string.IsNullOrWhiteSpace(r.Model))
            .GroupBy(r => r.Model!.Trim(), StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => new ModelBudgetInput(g.Last().BudgetLimit, string.IsNullOrEmpty(g.Last().TimePeriod) ? null : g.Last().TimePeriod), StringComparer.Ordinal);

    public static LimitsForm From(Proxy.Core.Users.PortalUser u) => new() { MaxBudget = u.MaxBudget, BudgetDuration = u.BudgetDuration ?? "" };

    public Proxy.Core.Users.UserInput ToUserInput(string userId) => new() { UserId = userId, MaxBudget = MaxBudget, BudgetDuration = Duration };

    public TeamInput ToTeamInput(string teamId) => new()
    {
        TeamId = teamId, MaxBudget = MaxBudget, BudgetDuration = Duration, SoftBudget = SoftBudget, RpmLimit = RpmLimit, TpmLimit = TpmLimit,
        AlertWebhookUrl = RemoveAlertWebhook ? new Optional<string?>(null)
            : string.IsNullOrWhiteSpace(AlertWebhookUrl) ? default(Optional<string?>) : new Optional<string?>(AlertWebhookUrl.Trim()),
    };

    private Optional<string?> Duration => string.IsNullOrEmpty(BudgetDuration) ? new Optional<string?>(null) : BudgetDuration;

    /// <summary>"60 rpm · 10,000 tpm · 4 in flight", or "none".</summary>
    public static string Describe(long? rpm, long? tpm, int? parallel)
    {
        var parts = new List<string>();
        if (rpm is { } r) parts.Add($"{r:N0} rpm");
        if (tpm is { } t) parts.Add($"{t:N0} tpm");
        if (parallel is { } p) parts.Add($"{p:N0} in flight");
        return parts.Count == 0 ? "none" : string.Join(" · ", parts);
    }
}

/// <summary>One model budget of a key as the limits form edits it.</summary>
public sealed class ModelBudgetRow
{
    public string? Model { get; set; }

    [Range(0, 1e12, ErrorMessage = "A model's budget is a positive amount of USD.")]
    public double? BudgetLimit { get; set; }

    public string TimePeriod { get; set; } = "";
}
