using System.Globalization;
using Proxy.Core;
using Proxy.Core.Keys;
using Proxy.Core.Spend;

namespace Portal.Tests.Spend;

/// <summary>
/// The rule of <see cref="Budget.NextReset"/>: 1d, 7d (1w) and 1mo (30d) end on the calendar in UTC, as newer LiteLLM
/// versions; every other duration rolls from when it was set.
/// </summary>
public sealed class CalendarPeriodTests
{
    public static TheoryData<string, string, string> Resets => new()
    {
        // The month: the first of the next one, whatever day it was set on.
        { "1mo", "2027-03-15T12:34:56", "2027-04-01T00:00:00" },
        { "30d", "2027-03-15T12:34:56", "2027-04-01T00:00:00" },
        { "1mo", "2027-01-31T12:00:00", "2027-02-01T00:00:00" },
        { "1mo", "2027-01-31T23:59:59", "2027-02-01T00:00:00" },
        { "1mo", "2027-02-28T18:00:00", "2027-03-01T00:00:00" },
        { "1mo", "2028-02-28T18:00:00", "2028-03-01T00:00:00" },
        { "1mo", "2028-02-29T18:00:00", "2028-03-01T00:00:00" },
        { "1mo", "2027-12-31T23:59:59", "2028-01-01T00:00:00" },
        { "1mo", "2027-03-01T00:00:00", "2027-04-01T00:00:00" },
        // The day: the next midnight; at midnight itself, the one after.
        { "1d", "2027-03-15T12:34:56", "2027-03-16T00:00:00" },
        { "1d", "2027-02-28T23:59:59", "2027-03-01T00:00:00" },
        { "1d", "2028-02-28T23:00:00", "2028-02-29T00:00:00" },
        { "1d", "2027-03-01T00:00:00", "2027-03-02T00:00:00" },
        // The week: the next Monday 00:00; on a Monday, the one after.
        { "7d", "2027-01-31T23:59:00", "2027-02-01T00:00:00" },
        { "7d", "2027-02-01T00:00:00", "2027-02-08T00:00:00" },
        { "7d", "2027-02-03T10:00:00", "2027-02-08T00:00:00" },
        { "1w", "2027-02-06T10:00:00", "2027-02-08T00:00:00" },
        // Anything else rolls: one duration after now, in whole seconds.
        { "2d", "2027-01-31T10:00:00.700", "2027-02-02T10:00:00" },
        { "12h", "2027-01-31T23:00:00", "2027-02-01T11:00:00" },
        { "24h", "2027-01-31T10:00:00", "2027-02-01T10:00:00" },
        { "30s", "2027-01-31T23:59:45", "2027-02-01T00:00:15" },
        { "31d", "2027-01-15T08:00:00", "2027-02-15T08:00:00" },
    };

    [Theory]
    [MemberData(nameof(Resets))]
    public void NextReset_FollowsTheCalendarFor1d7dAnd1mo_AndRollsForTheRest(string duration, string now, string expected)
    {
        Assert.Equal(Utc(expected), Budget.NextReset(duration, Utc(now)));
    }

    [Fact]
    public void AMonthlyBudgetSetMidMonth_EndsOnTheFirst_SoItsFirstPeriodIsShort()
    {
        var key = new VirtualKey();

        Budget.Apply(key, 10.0, "1mo", Utc("2027-01-20T09:30:00"));

        Assert.Equal("1mo", key.BudgetDuration);
        Assert.Equal(Utc("2027-02-01T00:00:00"), key.BudgetResetAt);
    }

    [Fact]
    public void AnExistingRolling30dBudget_KeepsItsStoredResetUntilItPasses_ThenFollowsTheCalendar()
    {
        // Stored before calendar periods: 30 days from when it was set.
        var key = new VirtualKey { BudgetDuration = "30d", BudgetResetAt = Utc("2027-02-14T10:00:00") };

        Budget.Apply(key, 10.0, "30d", Utc("2027-02-01T12:00:00"));

        Assert.Equal(Utc("2027-02-14T10:00:00"), key.BudgetResetAt);
        Assert.Equal(Utc("2027-03-01T00:00:00"), Budget.NextReset(key.BudgetDuration!, Utc("2027-02-14T10:00:01")));
    }

    [Theory]
    [InlineData("2mo")]
    [InlineData("0mo")]
    [InlineData("1 month")]
    [InlineData("1M")]
    public void AnyOtherMonthCount_IsRefusedNamingBudgetDuration(string duration)
    {
        var key = new VirtualKey();

        var error = Assert.Throws<ProxyError>(() => Budget.Apply(key, 10.0, duration, Utc("2027-01-20T09:30:00")));

        Assert.Equal(400, error.Status);
        Assert.Equal("budget_duration", error.Param);
        Assert.Null(key.BudgetDuration);
    }

    private static DateTime Utc(string text) =>
        DateTime.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);
}
