namespace Proxy.Core.Spend;

/// <summary>A key, team or user: how much it may spend per period, and what it has spent in the current one.</summary>
public interface IBudgeted
{
    /// <summary>USD. A call is refused once <see cref="Spend"/> has reached it (<c>spend &gt;= max_budget</c>).</summary>
    double? MaxBudget { get; set; }

    /// <summary>USD spent in the current period, as the background writer last stored it.</summary>
    double Spend { get; set; }

    /// <summary><c>1d</c>, <c>7d</c>, <c>1mo</c> (calendar periods), <c>30s</c>, <c>1h</c>...; null means spend never resets.</summary>
    string? BudgetDuration { get; set; }

    /// <summary>When <see cref="Spend"/> next goes back to 0.</summary>
    DateTime? BudgetResetAt { get; set; }
}

/// <summary>The budget rules every key, team and user shares.</summary>
public static class Budget
{
    /// <summary>
    /// Applies <c>max_budget</c> and <c>budget_duration</c> from a request. A new or changed period starts now and ends at
    /// <see cref="NextReset"/> (so a calendar period set mid-month is a short first month); the same period given again
    /// changes nothing.
    /// </summary>
    public static void Apply(IBudgeted target, Optional<double?> maxBudget, Optional<string?> duration, DateTime now)
    {
        if (maxBudget.IsGiven)
        {
            target.MaxBudget = LimitRules.MaxBudget(maxBudget.Value);
        }
        if (duration.IsGiven)
        {
            // Checked before the comparison so that an invalid duration is refused even when it is the stored one.
            var (text, next) = LimitRules.Period(duration.Value, now);
            if (text != target.BudgetDuration)
            {
                target.BudgetDuration = text;
                target.BudgetResetAt = next;
            }
        }
    }

    /// <summary>
    /// When a period of <paramref name="duration"/> running at <paramref name="now"/> (UTC) ends. As LiteLLM's
    /// <c>get_next_standardized_reset_time</c> in UTC, the day, week and month end on the calendar: <c>1d</c> at the
    /// next midnight, <c>7d</c> and <c>1w</c> at the next Monday 00:00, <c>1mo</c> and <c>30d</c> at the first of the
    /// next month 00:00; a boundary is never <paramref name="now"/> itself. Any other duration rolls: it ends one
    /// duration after <paramref name="now"/>.
    /// </summary>
    /// <param name="param">The field a bad duration is reported under (a model budget's <c>time_period</c>).</param>
    public static DateTime NextReset(string duration, DateTime now, string param = "budget_duration") => duration switch
    {
        "1d" => now.Date.AddDays(1),
        "7d" or "1w" => now.Date.AddDays(DaysToNextMonday(now.DayOfWeek)),
        "1mo" or "30d" => new DateTime(now.Year, now.Month, 1, 0, 0, 0, DateTimeKind.Utc).AddMonths(1),
        // LiteLLM refuses other month counts too: a period of several months has no first of the month to start on.
        _ when duration.EndsWith("mo", StringComparison.Ordinal) =>
            throw ProxyError.BadRequest($"{param} '{duration}' is not valid: months are 1mo only (reset on the first of every month).", param),
        _ => WholeSecond(now + Check.Duration(duration, param)),
    };

    /// <summary>1 to 7: on a Monday the next Monday is a week away.</summary>
    private static int DaysToNextMonday(DayOfWeek today) => 7 - ((int)today + 6) % 7;

    /// <summary>Reset times in whole seconds: what the API shows is what every database stores (PostgreSQL keeps microseconds, .NET ticks).</summary>
    private static DateTime WholeSecond(DateTime t) => new(t.Ticks - t.Ticks % TimeSpan.TicksPerSecond, DateTimeKind.Utc);
}

/// <summary>What one key, team, user or deployment may spend and how fast, as the route snapshot holds it.</summary>
public sealed record Limits(double? MaxBudget, long? RpmLimit, long? TpmLimit, int? MaxParallelRequests)
{
    public static readonly Limits None = new(null, null, null, null);

    /// <summary>Only accounts with a limit are watched on the hot path; spend of the others is still recorded.</summary>
    public bool Any => MaxBudget is not null || RpmLimit is not null || TpmLimit is not null || MaxParallelRequests is not null;
}
