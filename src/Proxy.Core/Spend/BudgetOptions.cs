namespace Proxy.Core.Spend;

/// <summary>The <c>Proxy:Budgets</c> configuration section: how budgets treat what they cannot price (docs/budgets.md).</summary>
public sealed class BudgetOptions
{
    /// <summary>
    /// A call on a model without a price, when a budget applies to it: refused (the default: a budget that cannot see a
    /// call's cost would not bind), or allowed and counted at 0.
    /// </summary>
    public UnpricedModels UnpricedModels { get; set; } = UnpricedModels.Refuse;

    /// <summary>The output tokens a call without <c>max_tokens</c> reserves, when its model's maximum output is not known either.</summary>
    public int DefaultOutputTokens { get; set; } = 4096;
}

public enum UnpricedModels
{
    Refuse,
    Allow,
}
