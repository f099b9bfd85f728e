namespace Proxy.Core.Spend;

/// <summary>A key, team or user: how much it may spend per period, and what it has spent in the current one.</summary>
public interface IBudgeted
{
    /// <summary>USD. A call is refused once <see cref="Spend"/> has reached it (<c>spend &gt;= max_budget</c>).</summary>
    double? MaxBudget { get; set; }

    /// <summary>USD spent in the current period, as the background writer last stored it.</summary>
    double Spend { get; set; }

    /// <summary><c>30s</c>, <c>1h</c>, <c>1d</c>, <c>7d</c>, <c>30d</c>...; null means spend never resets.</summary>
    string? BudgetDuration { get; set; }

    /// <summary>When <see cref="Spend"/> next goes back to 0.</summary>
    DateTime? BudgetResetAt { get; set; }
}

/// <summary>The budget rules every key, team and user shares.</summary>
public static class Budget
{
    /// <summary>
    /// Applies <c>max_budget</c> and <c>budget_duration</c> from a request. A new or changed period starts now
    /// (its first reset is one duration away); the same period given again changes nothing.
    /// </summary>
    public static void Apply(IBudgeted target, Optional<double?> maxBudget, Optional<string?> duration, DateTime now)
    {
        if (maxBudget.IsGiven)
        {
            target.MaxBudget = Check.NotNegative(maxBudget.Value, "max_budget");
        }
        if (duration.IsGiven)
        {
            var text = Check.Text(duration.Value, "budget_duration", 16);
            var period = text is null ? (TimeSpan?)null : Check.Duration(text, "budget_duration");
            if (text != target.BudgetDuration)
            {
                target.BudgetDuration = text;
                target.BudgetResetAt = period is { } p ? WholeSecond(now + p) : null;
            }
        }
    }

    /// <summary>The period of a stored <c>budget_duration</c> (already validated when it was stored).</summary>
    public static TimeSpan? Period(string? duration) => duration is null ? null : Check.Duration(duration, "budget_duration");

    /// <summary>The start of the next period after one that ended at <paramref name="now"/>.</summary>
    public static DateTime NextReset(string duration, DateTime now) => WholeSecond(now + Check.Duration(duration, "budget_duration"));

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
