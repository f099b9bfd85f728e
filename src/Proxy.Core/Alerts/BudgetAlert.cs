using Proxy.Core.Spend;

namespace Proxy.Core.Alerts;

/// <summary>A threshold a key's or team's spend crossed, claimed for this period by the batch that stored the spend.</summary>
/// <param name="Id">The key's hash or the team's id.</param>
/// <param name="Spend">The stored spend that crossed it.</param>
public sealed record BudgetAlert(AccountKind Kind, string Id, BudgetThreshold Threshold, double Spend, double? MaxBudget, double? SoftBudget);
