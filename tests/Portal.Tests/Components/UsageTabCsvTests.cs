using System.Globalization;
using Portal.Components.Pages.Teams;
using Proxy.Core.Reports;

namespace Portal.Tests.Components;

/// <summary>The Usage tab's CSV as a spreadsheet reads it: one row per day and model, invariant numbers, names that stay text.</summary>
public sealed class UsageTabCsvTests
{
    private static ActivityMetrics Metrics(long requests, long failed, long prompt, long completion, double spend) =>
        new(spend, prompt, completion, 0, 0, requests, requests - failed, failed);

    private static ActivityDay Day(DateOnly date, params (string Model, ActivityMetrics Metrics)[] models) => new(
        date, models.Aggregate(ActivityMetrics.Zero, (sum, m) => sum.Plus(m.Metrics)), models.ToDictionary(m => m.Model, m => m.Metrics),
        new Dictionary<string, ActivityMetrics>(), new Dictionary<string, KeyActivity>());

    private static string[] Lines(string csv) => csv.Split("\r\n");

    [Fact]
    public void OneRowPerDayAndModel_OldestDayFirst_UnderAHeader()
    {
        var csv = UsageCsv.Write("Sweden",
        [
            Day(new DateOnly(2026, 3, 10), ("zeta", Metrics(2, 1, 11, 7, 0.25))),
            Day(new DateOnly(2026, 3, 9), ("zeta", Metrics(1, 0, 3, 4, 0.5)), ("alpha", Metrics(1000, 0, 1_234_567, 89, 1234.5))),
        ]);

        Assert.Equal(
            [
                "date,team,model,api_requests,successful_requests,failed_requests,prompt_tokens,completion_tokens,cache_read_input_tokens,total_tokens,spend_usd",
                "2026-03-09,Sweden,alpha,1000,1000,0,1234567,89,0,1234656,1234.5",
                "2026-03-09,Sweden,zeta,1,1,0,3,4,0,7,0.5",
                "2026-03-10,Sweden,zeta,2,1,1,11,7,0,18,0.25",
                "",
            ],
            Lines(csv));
    }

    [Fact]
    public void Numbers_AreInvariant_WhateverTheServersCulture_AndNeverInExponentForm()
    {
        var culture = CultureInfo.CurrentCulture;
        try
        {
            // German separators (built by hand: the test host may run without ICU's cultures).
            var german = (CultureInfo)CultureInfo.InvariantCulture.Clone();
            german.NumberFormat.NumberDecimalSeparator = ",";
            german.NumberFormat.NumberGroupSeparator = ".";
            CultureInfo.CurrentCulture = german;
            var csv = UsageCsv.Write("t", [Day(new DateOnly(2026, 3, 9), ("m", Metrics(12345, 0, 1_000_000, 0, 0.0000012)))]);

            Assert.Equal("2026-03-09,t,m,12345,12345,0,1000000,0,0,1000000,0.0000012", Lines(csv)[1]);
        }
        finally
        {
            CultureInfo.CurrentCulture = culture;
        }
    }

    [Fact]
    public void Names_WithCommasOrQuotes_AreQuoted_AndFormulasStayText()
    {
        var csv = UsageCsv.Write("Finance, \"EU\"", [Day(new DateOnly(2026, 3, 9), ("=HYPERLINK(\"http://x\")", Metrics(1, 0, 1, 1, 0)), ("-2+3", Metrics(1, 0, 1, 1, 0)))]);

        Assert.StartsWith("2026-03-09,\"Finance, \"\"EU\"\"\",'-2+3,", Lines(csv)[1]);
        Assert.StartsWith("2026-03-09,\"Finance, \"\"EU\"\"\",\"'=HYPERLINK(\"\"http://x\"\")\",", Lines(csv)[2]);
    }

    [Fact]
    public void NoDays_IsTheHeaderAlone()
    {
        Assert.Equal([UsageCsv.Header, ""], Lines(UsageCsv.Write("t", [])));
    }

    [Theory]
    [InlineData("Sweden", "usage-sweden-2026-03-04-to-2026-03-10.csv")]
    [InlineData("Data & ML / Göteborg", "usage-data---ml---g-teborg-2026-03-04-to-2026-03-10.csv")]
    [InlineData("ÅÄÖ", "usage-team-2026-03-04-to-2026-03-10.csv")]
    public void FileName_NamesTheTeamAndTheRange(string team, string expected)
    {
        Assert.Equal(expected, UsageCsv.FileName(team, new DateOnly(2026, 3, 4), new DateOnly(2026, 3, 10)));
    }
}
