using System.Net;
using System.Net.Http.Json;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Spend;

/// <summary>
/// Calendar budget periods through the REST API and the background reset (<c>SpendSync</c>), on a fake clock that
/// crosses a month's end and then a midnight.
/// </summary>
[Trait("Category", "Database")]
public sealed class CalendarResetTests(MonthEndFixture fixture) : IClassFixture<MonthEndFixture>
{
    private static readonly DateTime February1 = new(2027, 2, 1, 0, 0, 0, DateTimeKind.Utc);

    private GatewayFactory Gateway => fixture.Gateway;

    [Fact]
    public async Task CalendarBudgets_ResetOnTheFirstOfTheMonth_AtMidnight_AndOnMonday_WhileARollingOneKeepsItsTime()
    {
        Assert.Equal(MonthEndFixture.Start, fixture.Clock.GetUtcNow());
        var setup = await fixture.TeamWithModelAsync(extraParams: BudgetTests.Priced);
        // Each key's budget is less than one call: after a call it refuses until its period resets.
        var monthly = await GenerateAsync(setup.TeamId, "1mo");
        var thirtyDays = await GenerateAsync(setup.TeamId, "30d");
        var daily = await GenerateAsync(setup.TeamId, "1d");
        var weekly = await GenerateAsync(setup.TeamId, "7d");
        var rolling = await GenerateAsync(setup.TeamId, "2h");
        var team = await (await Gateway.Client().PostAsJsonAsync("/team/new", new { team_alias = "monthly", max_budget = 100, budget_duration = "1mo" }))
            .ReadJsonAsync(HttpStatusCode.OK);
        var teamUpdate = await (await Gateway.Client().PostAsJsonAsync("/team/update", new { team_id = setup.TeamId, max_budget = 100, budget_duration = "1mo" }))
            .ReadJsonAsync(HttpStatusCode.OK);
        var user = await (await Gateway.Client().PostAsJsonAsync("/user/new", new { user_email = "weekly@example.com", max_budget = 5, budget_duration = "7d" }))
            .ReadJsonAsync(HttpStatusCode.OK);

        // Set ten minutes before the month ends, every calendar period's first reset is at its end: a ten-minute period.
        Assert.Equal(February1, monthly.ResetAt);
        Assert.Equal(February1, thirtyDays.ResetAt);
        Assert.Equal(February1, daily.ResetAt);
        Assert.Equal(February1, weekly.ResetAt);
        Assert.Equal(new DateTime(2027, 2, 1, 1, 50, 0, DateTimeKind.Utc), rolling.ResetAt);
        Assert.Equal(February1, team["budget_reset_at"]!.GetValue<DateTime>());
        Assert.Equal(February1, teamUpdate["data"]!["budget_reset_at"]!.GetValue<DateTime>());
        Assert.Equal(February1, user["budget_reset_at"]!.GetValue<DateTime>());

        foreach (var key in new[] { monthly, thirtyDays, daily, weekly, rolling })
        {
            await Spend.CallAsync(Gateway, key.Key);
            Assert.Equal(BudgetTests.CallCost, await Spend.KeySpendAsync(Gateway, key.Key, BudgetTests.CallCost), 9);
        }
        await (await CallAsync(monthly.Key)).ReadErrorAsync(HttpStatusCode.BadRequest, "budget_exceeded");

        fixture.Clock.Advance(TimeSpan.FromMinutes(10) + TimeSpan.FromSeconds(1));

        Assert.Equal(0, await Spend.KeySpendAsync(Gateway, monthly.Key, 0), 9);
        Assert.Equal(new DateTime(2027, 3, 1, 0, 0, 0, DateTimeKind.Utc), (await InfoAsync(monthly.Key)).ResetAt);
        Assert.Equal(0, await Spend.KeySpendAsync(Gateway, thirtyDays.Key, 0), 9);
        Assert.Equal(new DateTime(2027, 3, 1, 0, 0, 0, DateTimeKind.Utc), (await InfoAsync(thirtyDays.Key)).ResetAt);
        Assert.Equal(0, await Spend.KeySpendAsync(Gateway, daily.Key, 0), 9);
        Assert.Equal(new DateTime(2027, 2, 2, 0, 0, 0, DateTimeKind.Utc), (await InfoAsync(daily.Key)).ResetAt);
        Assert.Equal(0, await Spend.KeySpendAsync(Gateway, weekly.Key, 0), 9);
        Assert.Equal(new DateTime(2027, 2, 8, 0, 0, 0, DateTimeKind.Utc), (await InfoAsync(weekly.Key)).ResetAt);
        var teamInfo = await (await Gateway.Client().GetAsync($"/team/info?team_id={setup.TeamId}")).ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal(new DateTime(2027, 3, 1, 0, 0, 0, DateTimeKind.Utc), teamInfo["team_info"]!["budget_reset_at"]!.GetValue<DateTime>());
        Assert.Equal(BudgetTests.CallCost, (await InfoAsync(rolling.Key)).Spend, 9);
        Assert.Equal(rolling.ResetAt, (await InfoAsync(rolling.Key)).ResetAt);
        // The gateway admits the key again at once (its in-memory account took the reset), and charges the new period.
        Assert.Equal(HttpStatusCode.OK, (await CallAsync(monthly.Key)).StatusCode);
        await Spend.CallAsync(Gateway, daily.Key);
        Assert.Equal(BudgetTests.CallCost, await Spend.KeySpendAsync(Gateway, daily.Key, BudgetTests.CallCost), 9);
        Assert.Equal(BudgetTests.CallCost, await Spend.KeySpendAsync(Gateway, monthly.Key, BudgetTests.CallCost), 9);

        // The next midnight ends the day; the month and the week go on, and the rolling period has ended by then too.
        fixture.Clock.Advance(TimeSpan.FromDays(1));

        Assert.Equal(0, await Spend.KeySpendAsync(Gateway, daily.Key, 0), 9);
        Assert.Equal(new DateTime(2027, 2, 3, 0, 0, 0, DateTimeKind.Utc), (await InfoAsync(daily.Key)).ResetAt);
        Assert.Equal(0, await Spend.KeySpendAsync(Gateway, rolling.Key, 0), 9);
        Assert.Equal(new DateTime(2027, 2, 2, 2, 0, 1, DateTimeKind.Utc), (await InfoAsync(rolling.Key)).ResetAt);
        Assert.Equal(BudgetTests.CallCost, (await InfoAsync(monthly.Key)).Spend, 9);
        Assert.Equal(new DateTime(2027, 3, 1, 0, 0, 0, DateTimeKind.Utc), (await InfoAsync(monthly.Key)).ResetAt);
        Assert.Equal(new DateTime(2027, 2, 8, 0, 0, 0, DateTimeKind.Utc), (await InfoAsync(weekly.Key)).ResetAt);
    }

    /// <summary>A key with room for one call's worst case (0.137), not a second's after it (0.025 + 0.137).</summary>
    private async Task<(string Key, DateTime ResetAt)> GenerateAsync(string teamId, string duration)
    {
        var created = await (await Gateway.Client().PostAsJsonAsync("/key/generate", new { team_id = teamId, max_budget = 0.14, budget_duration = duration }))
            .ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal(duration, created["budget_duration"]!.GetValue<string>());
        return (created["key"]!.GetValue<string>(), created["budget_reset_at"]!.GetValue<DateTime>());
    }

    private async Task<(double Spend, DateTime ResetAt)> InfoAsync(string key)
    {
        var info = (await (await Gateway.Client().GetAsync($"/key/info?key={key}")).ReadJsonAsync(HttpStatusCode.OK))["info"]!;
        return (info["spend"]!.GetValue<double>(), info["budget_reset_at"]!.GetValue<DateTime>());
    }

    private Task<HttpResponseMessage> CallAsync(string key) =>
        Gateway.Client(key).PostAsJsonAsync("/v1/chat/completions", Spend.Chat("my-team-model"));
}
