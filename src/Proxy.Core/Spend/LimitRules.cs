namespace Proxy.Core.Spend;

/// <summary>
/// The rules of budgets and rate limits of keys, teams and users: what <c>/key/generate</c>, <c>/key/update</c>,
/// <c>/team/new</c>, <c>/team/update</c> and <c>/user/*</c> accept. The services apply them; the portal's forms check what
/// is typed with the same methods, so a bad value gets the same message on both. Each refusal is a 400 naming its field.
/// </summary>
public static class LimitRules
{
    public static double? MaxBudget(double? usd) => Amount(usd, "max_budget", ", or none for no budget");

    public static double? SoftBudget(double? usd) => Amount(usd, "soft_budget", ", or none for no alert");

    public static long? TpmLimit(long? tokens) => Count(tokens, "tpm_limit", "tokens per minute");

    public static long? RpmLimit(long? requests) => Count(requests, "rpm_limit", "requests per minute");

    public static int? MaxParallelRequests(int? calls) => Count(calls, "max_parallel_requests", "calls in flight");

    /// <summary>
    /// A budget period (<c>budget_duration</c>, or a model budget's <c>time_period</c> under <paramref name="param"/>): the
    /// trimmed text and when a period starting at <paramref name="now"/> ends; null for none.
    /// </summary>
    public static (string? Text, DateTime? NextReset) Period(string? duration, DateTime now, string param = "budget_duration")
    {
        var text = Check.Text(duration, param, 16);
        return (text, text is null ? null : Budget.NextReset(text, now, param));
    }

    /// <summary>The whole of a <c>model_max_budget</c> (its size); each entry by <see cref="ModelBudget"/>.</summary>
    public static void ModelBudgetCount(int models)
    {
        if (models > 1000)
        {
            throw ProxyError.BadRequest($"model_max_budget has {models} models, at most 1000 allowed.", "model_max_budget");
        }
    }

    /// <summary>One entry of <c>model_max_budget</c>: the model, its <c>budget_limit</c> (required) and <c>time_period</c> with its end.</summary>
    public static (string Model, double Limit, string? Period, DateTime? NextReset) ModelBudget(string? model, double? budgetLimit, string? timePeriod, DateTime now)
    {
        var name = Check.Required(model, "model_max_budget", 256);
        var param = $"model_max_budget.{name}";
        var limit = budgetLimit ?? throw ProxyError.BadRequest(
            $"{param}.budget_limit is required: the USD the key may spend on {name} per time_period, e.g. {{\"{name}\": {{\"budget_limit\": 10.0, \"time_period\": \"1d\"}}}}.",
            $"{param}.budget_limit");
        Amount(limit, $"{param}.budget_limit", "");
        var (period, next) = Period(timePeriod, now, $"{param}.time_period");
        return (name, limit, period, next);
    }

    private static double? Amount(double? usd, string param, string otherwise)
    {
        if (usd is { } v && !double.IsFinite(v))
        {
            throw ProxyError.BadRequest($"{param} must be a finite amount of USD.", param);
        }
        if (usd < 0)
        {
            throw ProxyError.BadRequest($"{param} must not be negative: give an amount of USD, 0 or more{otherwise}.", param);
        }
        return usd;
    }

    private static T? Count<T>(T? value, string param, string unit) where T : struct, IComparable<T>
    {
        if (value is { } v && v.CompareTo(default) < 0)
        {
            throw ProxyError.BadRequest($"{param} must not be negative: give a number of {unit}, 0 or more, or none for no limit.", param);
        }
        return value;
    }
}
