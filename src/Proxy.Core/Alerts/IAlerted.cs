using Proxy.Core.Spend;

namespace Proxy.Core.Alerts;

/// <summary>A key or team: a budget whose thresholds send alerts (docs/budgets.md, "Alerts").</summary>
public interface IAlerted : IBudgeted
{
    /// <summary>LiteLLM's <c>soft_budget</c> (USD): an alert when spend reaches it; calls go on.</summary>
    double? SoftBudget { get; set; }

    /// <summary>The thresholds already alerted in the current period; cleared when the period resets.</summary>
    BudgetThreshold AlertsSent { get; set; }
}
