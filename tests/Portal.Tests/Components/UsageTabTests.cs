using System.Security.Claims;
using System.Text;
using Bunit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Portal.Components.Pages.Teams;
using Proxy.Core.Access;
using Proxy.Core.Keys;
using Proxy.Core.Persistence;
using Proxy.Core.Routing;
using Proxy.Core.Teams;
using Proxy.Core.Usage;

namespace Portal.Tests.Components;

/// <summary>
/// The Usage tab over the daily activity report: the range it shows (UTC days), its totals and breakdowns, a new read
/// when the range changes, the empty state, a refusal in place, and the CSV it saves. Calls are recorded through the
/// real usage writer, so the report reads what the gateway writes.
/// </summary>
public sealed class UsageTabTests : PortalUiContext
{
    private const string Lead = "lead@example.com";

    /// <summary>"Today" for every test: 2026-03-10, noon UTC.</summary>
    private static readonly DateTimeOffset Now = new(2026, 3, 10, 12, 0, 0, TimeSpan.Zero);

    /// <summary>A read of the report on two shared cores, with the other tests' hosts beside it.</summary>
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    private static readonly VirtualKey CiKey = new() { Token = "hash-of-ci-key", KeyName = "sk-...ci01", KeyAlias = "ci-pipeline" };
    private static readonly VirtualKey LaptopKey = new() { Token = "hash-of-laptop-key", KeyName = "sk-...lp02" };

    public UsageTabTests()
    {
        Ui.Services.AddSingleton<Microsoft.AspNetCore.Identity.ILookupNormalizer, Microsoft.AspNetCore.Identity.UpperInvariantLookupNormalizer>();
        Ui.Services.AddSingleton<TimeProvider>(new FakeTimeProvider(Now));
    }

    /// <summary>A migrated database with team "Sweden" and its admin; returns the team and the admin's user id.</summary>
    private async Task<(string Team, string LeadId)> SeedAsync()
    {
        await using (var scope = Ui.Services.CreateAsyncScope())
        {
            await Database.MigrateAsync(scope.ServiceProvider.GetRequiredService<PortalDb>());
        }
        await using var writes = Ui.Services.CreateAsyncScope();
        var teams = writes.ServiceProvider.GetRequiredService<TeamService>();
        var teamId = (await teams.CreateAsync(Caller.MasterKey, new TeamInput { TeamAlias = "Sweden" })).Team.TeamId;
        await teams.AddMembersAsync(Caller.MasterKey, teamId, [new MemberInput(null, Lead, TeamRole.Admin)]);
        var members = (await teams.GetAsync(Caller.MasterKey, teamId)).Team.Members;
        await Ui.Services.GetRequiredService<RouteTable>().RefreshAsync();
        return (teamId, members.Single(m => m.User?.Email == Lead).UserId);
    }

    private static UsageRecord Call(string teamId, VirtualKey key, string model, DateTime at, int status = 200, double spend = 0.25) => new()
    {
        CallId = Guid.NewGuid().ToString("N"), KeyHash = key.Token, TeamId = teamId, Model = model, Deployment = "gpt-4o",
        Route = "chat/completions", Status = status,
        // A failed call used no tokens and cost nothing.
        PromptTokens = status < 400 ? 11 : 0, CompletionTokens = status < 400 ? 7 : 0, TotalTokens = status < 400 ? 18 : 0,
        Spend = status < 400 ? spend : 0, StartedAt = at,
    };

    /// <summary>Writes the calls as the gateway does: through the usage writer, started for them and stopped once they are stored.</summary>
    private async Task RecordAsync(params UsageRecord[] calls)
    {
        var writer = Ui.Services.GetRequiredService<UsageWriter>();
        await writer.StartAsync(CancellationToken.None);
        foreach (var call in calls)
        {
            writer.Record(call);
        }
        // Stopped only once its batch is in: a writer stopped before its loop has started never runs it.
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (await StoredAsync() < calls.Length)
        {
            Assert.True(DateTime.UtcNow < deadline, "the usage writer never stored the calls");
            await Task.Delay(50);
        }
        await writer.StopAsync(CancellationToken.None);
    }

    private async Task<int> StoredAsync()
    {
        await using var scope = Ui.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<PortalDb>().Usage.CountAsync();
    }

    /// <summary>
    /// Today (noon, and one second after midnight), yesterday one second before midnight, and 20 days ago: 5 calls,
    /// one of them failed, over 3 UTC days in the last 7 and one more in the last 30.
    /// </summary>
    private Task RecordTheMonthAsync(string team) => RecordAsync(
        Call(team, CiKey, "my-team-model", new DateTime(2026, 3, 10, 11, 0, 0, DateTimeKind.Utc)),
        Call(team, CiKey, "my-team-model", new DateTime(2026, 3, 10, 0, 0, 1, DateTimeKind.Utc), status: 502),
        Call(team, LaptopKey, "my-team-model", new DateTime(2026, 3, 9, 23, 59, 59, DateTimeKind.Utc)),
        Call(team, LaptopKey, "cheap-model", new DateTime(2026, 3, 9, 12, 0, 0, DateTimeKind.Utc), spend: 0.05),
        Call(team, CiKey, "old-model", new DateTime(2026, 2, 18, 9, 0, 0, DateTimeKind.Utc), spend: 1));

    private IRenderedComponent<UsageTab> RenderTab(string teamId, string userId)
    {
        Auth.SetClaims(new Claim(ClaimTypes.NameIdentifier, userId));
        RenderProviders();
        return Ui.Render<UsageTab>(p => p.Add(t => t.TeamId, teamId).Add(t => t.TeamName, "Sweden").Add(t => t.Keys, [CiKey, LaptopKey]));
    }

    private static string Cell(IRenderedComponent<UsageTab> tab, string table, string rowText, string cell) =>
        tab.FindAll($"[data-testid={table}] tbody tr").Single(r => r.TextContent.Contains(rowText)).QuerySelector($"[data-testid={cell}]")!.TextContent.Trim();

    [Fact]
    public async Task TheLast30Days_ShowTheirTotals_PerModel_PerKey_AndPerUtcDay()
    {
        var (team, leadId) = await SeedAsync();
        await RecordTheMonthAsync(team);

        var tab = RenderTab(team, leadId);

        tab.WaitForAssertion(() => Assert.Equal("$1.55", tab.Find("[data-testid=usage-total-spend]").TextContent.Trim()), Wait);
        Assert.Contains("2026-02-09 to 2026-03-10", tab.Find("[data-testid=usage-range-text]").TextContent);
        Assert.Contains("UTC", tab.Find("[data-testid=usage-range-text]").TextContent);
        Assert.Equal("5", tab.Find("[data-testid=usage-total-requests]").TextContent.Trim());
        Assert.Equal("4 · 1", tab.Find("[data-testid=usage-total-outcomes]").TextContent.Trim());
        Assert.Equal("72", tab.Find("[data-testid=usage-total-tokens]").TextContent.Trim());

        // Per model over the range, largest spend first.
        Assert.Equal(["old-model", "my-team-model", "cheap-model"], tab.FindAll("[data-testid=model-name]").Select(c => c.TextContent.Trim()));
        Assert.Equal("3 (1 failed)", Cell(tab, "usage-models", "my-team-model", "model-requests"));
        Assert.Equal("36", Cell(tab, "usage-models", "my-team-model", "model-tokens"));
        Assert.Equal("$0.50", Cell(tab, "usage-models", "my-team-model", "model-spend"));

        // Per key: alias and masked form, never the hash the report is keyed by.
        Assert.Equal("$1.25", Cell(tab, "usage-keys", "ci-pipeline · sk-...ci01", "key-spend"));
        Assert.Equal("3 (1 failed)", Cell(tab, "usage-keys", "ci-pipeline · sk-...ci01", "key-requests"));
        Assert.Equal("$0.30", Cell(tab, "usage-keys", "sk-...lp02", "key-spend"));
        Assert.DoesNotContain("hash-of-", tab.Markup);

        // UTC days: a second each side of midnight are two days; newest first.
        Assert.Equal(["2026-03-10", "2026-03-09", "2026-03-09", "2026-02-18"], tab.FindAll("[data-testid=day-date]").Select(c => c.TextContent.Trim()));
        Assert.Equal("$0.25", tab.FindAll("[data-testid=usage-per-day] tbody tr")[0].QuerySelector("[data-testid=day-spend]")!.TextContent.Trim());
    }

    [Fact]
    public async Task ChoosingAnotherRange_ReadsThatRange()
    {
        var (team, leadId) = await SeedAsync();
        await RecordTheMonthAsync(team);
        var tab = RenderTab(team, leadId);
        tab.WaitForAssertion(() => Assert.Equal("5", tab.Find("[data-testid=usage-total-requests]").TextContent.Trim()), Wait);

        await tab.Find("[data-testid=range-7]").ClickAsync(new());

        tab.WaitForAssertion(() => Assert.Equal("4", tab.Find("[data-testid=usage-total-requests]").TextContent.Trim()), Wait);
        Assert.Contains("2026-03-04 to 2026-03-10", tab.Find("[data-testid=usage-range-text]").TextContent);
        Assert.Equal("$0.55", tab.Find("[data-testid=usage-total-spend]").TextContent.Trim());
        Assert.DoesNotContain("old-model", tab.Markup);

        await tab.Find("[data-testid=range-90]").ClickAsync(new());

        tab.WaitForAssertion(() => Assert.Contains("old-model", tab.Find("[data-testid=usage-models]").TextContent), Wait);
        Assert.Contains("2025-12-11 to 2026-03-10", tab.Find("[data-testid=usage-range-text]").TextContent);
    }

    [Fact]
    public async Task NoCallsInTheRange_SaysSo_AndOffersNoCsv()
    {
        var (team, leadId) = await SeedAsync();
        await RecordAsync(Call(team, CiKey, "old-model", new DateTime(2026, 1, 2, 9, 0, 0, DateTimeKind.Utc)));

        var tab = RenderTab(team, leadId);

        tab.WaitForAssertion(() => Assert.Contains("No calls in these days", tab.Find("[data-testid=empty-state]").TextContent), Wait);
        Assert.Empty(tab.FindAll("[data-testid=usage-totals]"));
        Assert.True(tab.Find("[data-testid=usage-csv]").HasAttribute("disabled"));
    }

    [Fact]
    public async Task SomeoneOutsideTheTeam_IsRefusedInPlace()
    {
        var (team, _) = await SeedAsync();
        await RecordTheMonthAsync(team);
        string outsiderId;
        await using (var writes = Ui.Services.CreateAsyncScope())
        {
            var teams = writes.ServiceProvider.GetRequiredService<TeamService>();
            var other = (await teams.CreateAsync(Caller.MasterKey, new TeamInput { TeamAlias = "Other" })).Team.TeamId;
            outsiderId = (await teams.AddMembersAsync(Caller.MasterKey, other, [new MemberInput(null, "outsider@example.com", TeamRole.Admin)])).Team.Members.Single().UserId;
        }
        await Ui.Services.GetRequiredService<RouteTable>().RefreshAsync();

        var tab = RenderTab(team, outsiderId);

        tab.WaitForAssertion(() => Assert.Contains("Only the proxy admin or", tab.Find("[data-testid=usage-error]").TextContent), Wait);
        Assert.Contains(team, tab.Find("[data-testid=usage-error]").TextContent);
        Assert.DoesNotContain("my-team-model", tab.Markup);
        Assert.Empty(tab.FindAll("[data-testid=usage-totals]"));
    }

    [Fact]
    public async Task DownloadCsv_SavesTheRangesDailyReport_OneRowPerDayAndModel()
    {
        var (team, leadId) = await SeedAsync();
        await RecordTheMonthAsync(team);
        var module = Ui.JSInterop.SetupModule("./Components/Pages/Teams/UsageTab.razor.js");
        module.SetupVoid("downloadFile", _ => true).SetVoidResult();
        var tab = RenderTab(team, leadId);
        tab.WaitForAssertion(() => Assert.Equal("5", tab.Find("[data-testid=usage-total-requests]").TextContent.Trim()), Wait);
        await tab.Find("[data-testid=range-7]").ClickAsync(new());
        tab.WaitForAssertion(() => Assert.Equal("4", tab.Find("[data-testid=usage-total-requests]").TextContent.Trim()), Wait);

        await tab.Find("[data-testid=usage-csv]").ClickAsync(new());

        var saved = module.VerifyInvoke("downloadFile");
        Assert.Equal("usage-sweden-2026-03-04-to-2026-03-10.csv", saved.Arguments[0]);
        Assert.Equal("text/csv;charset=utf-8", saved.Arguments[1]);
        var bytes = ((MemoryStream)((Microsoft.JSInterop.DotNetStreamReference)saved.Arguments[2]!).Stream).ToArray();
        Assert.Equal(Encoding.UTF8.GetPreamble(), bytes[..3]);
        Assert.Equal(
            [
                UsageCsv.Header,
                "2026-03-09,Sweden,cheap-model,1,1,0,11,7,0,18,0.05",
                "2026-03-09,Sweden,my-team-model,1,1,0,11,7,0,18,0.25",
                "2026-03-10,Sweden,my-team-model,2,1,1,11,7,0,18,0.25",
                "",
            ],
            Encoding.UTF8.GetString(bytes[3..]).Split("\r\n"));
    }
}
