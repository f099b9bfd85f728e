using Microsoft.AspNetCore.Components.Forms;
using Proxy.Core;
using Proxy.Core.Keys;
using Proxy.Core.Spend;
using Proxy.Core.Teams;

namespace Portal.Components.Shared;

/// <summary>
/// A key's or a team's budget and rate limits as the portal edits them. An empty field means "no limit", and the
/// form always sends every field, so clearing one removes the limit (as <c>null</c> does in the REST API). What is typed
/// is checked by the core's <see cref="LimitRules"/>, the rules the REST API applies, so a bad value gets the API's
/// message on its field (<see cref="Refusals"/>); a refusal of the service lands on the field it names (<see cref="FieldOf"/>).
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

    public double? MaxBudget { get; set; }

    public string BudgetDuration { get; set; } = "";

    public double? SoftBudget { get; set; }

    /// <summary>A team's alert webhook: what is typed replaces the stored one; empty keeps it (the stored one is shown masked only).</summary>
    public string? AlertWebhookUrl { get; set; }

    /// <summary>Removes the team's alert webhook.</summary>
    public bool RemoveAlertWebhook { get; set; }

    public long? RpmLimit { get; set; }

    public long? TpmLimit { get; set; }

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

    /// <summary>Each field the core's rules refuse, with the message the REST API gives for the same value.</summary>
    public IEnumerable<(FieldIdentifier Field, string Message)> Refusals(DateTime now)
    {
        foreach (var rule in Rules(now))
        {
            ProxyError? refusal = null;
            try
            {
                rule();
            }
            catch (ProxyError e)
            {
                refusal = e;
            }
            if (refusal is not null && FieldOf(refusal.Param) is { } field)
            {
                yield return (field, refusal.Message);
            }
        }
    }

    private IEnumerable<Action> Rules(DateTime now) =>
    [
        () => LimitRules.MaxBudget(MaxBudget),
        () => LimitRules.Period(Empty(BudgetDuration), now),
        () => LimitRules.SoftBudget(SoftBudget),
        () => LimitRules.RpmLimit(RpmLimit),
        () => LimitRules.TpmLimit(TpmLimit),
        () => LimitRules.MaxParallelRequests(MaxParallelRequests),
        .. EditsModelBudgets
            ? ModelBudgets.Where(r => !string.IsNullOrWhiteSpace(r.Model)).Select(r => (Action)(() => LimitRules.ModelBudget(r.Model, r.BudgetLimit, Empty(r.TimePeriod), now)))
            : [],
    ];

    /// <summary>The field of this form a refusal's <c>param</c> names; null when it names none of them.</summary>
    public FieldIdentifier? FieldOf(string? param) => param switch
    {
        "max_budget" => new FieldIdentifier(this, nameof(MaxBudget)),
        "budget_duration" => new FieldIdentifier(this, nameof(BudgetDuration)),
        "soft_budget" => new FieldIdentifier(this, nameof(SoftBudget)),
        "rpm_limit" => new FieldIdentifier(this, nameof(RpmLimit)),
        "tpm_limit" => new FieldIdentifier(this, nameof(TpmLimit)),
        "max_parallel_requests" => new FieldIdentifier(this, nameof(MaxParallelRequests)),
        Proxy.Core.Alerts.TeamWebhook.Field => new FieldIdentifier(this, nameof(AlertWebhookUrl)),
        not null when param.StartsWith(ModelBudgetParam, StringComparison.Ordinal) => ModelBudgetFieldOf(param[ModelBudgetParam.Length..]),
        _ => null,
    };

    private const string ModelBudgetParam = "model_max_budget.";

    /// <summary><c>{model}.budget_limit</c> or <c>{model}.time_period</c> (a model's name may hold dots); the row that sends that model.</summary>
    private FieldIdentifier? ModelBudgetFieldOf(string rest)
    {
        foreach (var (suffix, field) in new[] { (".budget_limit", nameof(ModelBudgetRow.BudgetLimit)), (".time_period", nameof(ModelBudgetRow.TimePeriod)) })
        {
            if (rest.EndsWith(suffix, StringComparison.Ordinal) && ModelBudgets.FindLast(r => r.Model?.Trim() == rest[..^suffix.Length]) is { } row)
            {
                return new FieldIdentifier(row, field);
            }
        }
        return null;
    }

    private static string? Empty(string? text) => string.IsNullOrEmpty(text) ? null : text;

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

    public double? BudgetLimit { get; set; }

    public string TimePeriod { get; set; } = "";
}
