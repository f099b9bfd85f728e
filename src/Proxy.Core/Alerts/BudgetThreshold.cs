namespace Proxy.Core.Alerts;

/// <summary>The points of a budget that send an alert, once each per budget period. Stored as bits (<see cref="IAlerted.AlertsSent"/>).</summary>
[Flags]
public enum BudgetThreshold
{
    None = 0,

    /// <summary>Spend reached <c>soft_budget</c>: <c>soft_budget_crossed</c>.</summary>
    SoftBudget = 1,

    /// <summary>Spend reached 80% of <c>max_budget</c>: <c>budget_80_percent</c>.</summary>
    EightyPercent = 2,

    /// <summary>Spend reached <c>max_budget</c>: <c>budget_exceeded</c>.</summary>
    MaxBudget = 4,
}
