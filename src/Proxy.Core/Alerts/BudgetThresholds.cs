using Proxy.Core.Spend;

namespace Proxy.Core.Alerts;

/// <summary>Which thresholds a spend has reached, and how a change of limits arms them again.</summary>
public static class BudgetThresholds
{
    /// <summary>The share of <c>max_budget</c> that sends the early warning.</summary>
    public const double Warning = 0.8;

    /// <summary>The thresholds <paramref name="spend"/> has reached (a limit of 0 is reached at once).</summary>
    public static BudgetThreshold Reached(double spend, double? maxBudget, double? softBudget)
    {
        var reached = BudgetThreshold.None;
        if (softBudget is { } soft && spend >= soft)
        {
            reached |= BudgetThreshold.SoftBudget;
        }
        if (maxBudget is { } max)
        {
            if (spend >= max * Warning)
            {
                reached |= BudgetThreshold.EightyPercent;
            }
            if (spend >= max)
            {
                reached |= BudgetThreshold.MaxBudget;
            }
        }
        return reached;
    }

    /// <summary>
    /// Applies <c>max_budget</c>, <c>soft_budget</c> and <c>budget_duration</c> from a request (<see cref="Budget.Apply"/>).
    /// A threshold whose limit changed is armed again: an alert then says where spend stands against the new limit.
    /// </summary>
    public static void Apply(IAlerted target, Optional<double?> maxBudget, Optional<double?> softBudget, Optional<string?> duration, DateTime now)
    {
        var (max, soft) = (target.MaxBudget, target.SoftBudget);
        Budget.Apply(target, maxBudget, duration, now);
        if (softBudget.IsGiven)
        {
            target.SoftBudget = LimitRules.SoftBudget(softBudget.Value);
        }
        if (target.SoftBudget != soft)
        {
            target.AlertsSent &= ~BudgetThreshold.SoftBudget;
        }
        if (target.MaxBudget != max)
        {
            target.AlertsSent &= ~(BudgetThreshold.EightyPercent | BudgetThreshold.MaxBudget);
        }
    }

    /// <summary>The event name an alert's body carries.</summary>
    public static string EventName(BudgetThreshold threshold) => threshold switch
    {
        BudgetThreshold.SoftBudget => "soft_budget_crossed",
        BudgetThreshold.EightyPercent => "budget_80_percent",
        BudgetThreshold.MaxBudget => "budget_exceeded",
        _ => throw new ArgumentOutOfRangeException(nameof(threshold), threshold, "One threshold at a time."),
    };
}
