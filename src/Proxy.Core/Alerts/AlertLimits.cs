namespace Proxy.Core.Alerts;

/// <summary>A key's or team's alert thresholds and what was already sent, as the spend update returned them.</summary>
internal readonly record struct AlertLimits(double? MaxBudget, double? SoftBudget, BudgetThreshold Sent);
