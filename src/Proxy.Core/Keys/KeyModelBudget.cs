namespace Proxy.Core.Keys;

/// <summary>
/// One entry of a key's <c>model_max_budget</c> (LiteLLM's field): what the key may spend on one public model per
/// period, and what it has spent on it in the current one. A row of <c>key_model_budgets</c>, owned by its key.
/// </summary>
public sealed class KeyModelBudget
{
    /// <summary>The key's hash.</summary>
    public string Token { get; set; } = "";

    /// <summary>The public model name a call resolves to (after aliases), as the key's caller calls it.</summary>
    public string Model { get; set; } = "";

    /// <summary>USD per period (<c>budget_limit</c>).</summary>
    public double BudgetLimit { get; set; }

    /// <summary><c>time_period</c>, read as <c>budget_duration</c> is (calendar <c>1d</c>, <c>7d</c>, <c>1mo</c>; rolling otherwise); null never resets.</summary>
    public string? TimePeriod { get; set; }

    /// <summary>USD spent on the model with the key in the current period (<c>model_spend</c>), as the usage writer last stored it.</summary>
    public double Spend { get; set; }

    public DateTime? BudgetResetAt { get; set; }
}

/// <summary>The rules of <c>model_max_budget</c>.</summary>
public static class KeyModelBudgets
{
    /// <summary>
    /// Replaces the key's model budgets with <paramref name="budgets"/> (null: none). A model kept keeps its spend; its
    /// period starts again only when <c>time_period</c> changes, as <see cref="Spend.Budget.Apply"/> does for a key's budget.
    /// </summary>
    public static void Apply(VirtualKey key, IReadOnlyDictionary<string, ModelBudgetInput>? budgets, DateTime now)
    {
        budgets ??= new Dictionary<string, ModelBudgetInput>();
        Spend.LimitRules.ModelBudgetCount(budgets.Count);
        var checkedBudgets = budgets.Select(entry => Spend.LimitRules.ModelBudget(entry.Key, entry.Value.BudgetLimit, entry.Value.TimePeriod, now)).ToList();
        key.ModelBudgets.RemoveAll(b => !checkedBudgets.Any(c => c.Model == b.Model));
        foreach (var (model, limit, period, next) in checkedBudgets)
        {
            var stored = key.ModelBudgets.Find(b => b.Model == model);
            if (stored is null)
            {
                key.ModelBudgets.Add(new KeyModelBudget { Token = key.Token, Model = model, BudgetLimit = limit, TimePeriod = period, BudgetResetAt = next });
                continue;
            }
            stored.BudgetLimit = limit;
            if (stored.TimePeriod != period)
            {
                stored.TimePeriod = period;
                stored.BudgetResetAt = next;
            }
        }
    }

    /// <summary>A copy for a regenerated key: the same budgets, spend and periods under its new hash.</summary>
    public static List<KeyModelBudget> CopyFor(string token, IEnumerable<KeyModelBudget> budgets) =>
        [.. budgets.Select(b => new KeyModelBudget
        {
            Token = token, Model = b.Model, BudgetLimit = b.BudgetLimit, TimePeriod = b.TimePeriod, Spend = b.Spend, BudgetResetAt = b.BudgetResetAt,
        })];
}
