using System.ComponentModel;
using System.Globalization;
using Microsoft.AspNetCore.Http.HttpResults;
using Proxy.Core;
using Proxy.Core.Access;
using Proxy.Core.Keys;
using Proxy.Core.Reports;

namespace Portal.Endpoints;

/// <summary>
/// LiteLLM's daily activity reports, <c>GET /team/daily/activity</c> and <c>GET /user/daily/activity</c>: spend, tokens
/// and requests per UTC day, split by model, provider and key, read from the daily aggregates only (docs/usage.md,
/// "Reports"). Who may read which team or user is the rule book's (<see cref="Proxy.Core.Access.ActivityVisibility"/>).
/// </summary>
public static class ActivityEndpoints
{
    private static readonly HashSet<string> TeamParameters = ["team_ids", "team_id", "start_date", "end_date", "model", "api_key", "page", "page_size"];
    private static readonly HashSet<string> UserParameters = ["user_id", "start_date", "end_date", "model", "api_key", "page", "page_size"];

    /// <summary>LiteLLM's defaults: 10 days a page for teams, 50 for a user.</summary>
    private const int TeamPageSize = 10;
    private const int UserPageSize = 50;

    public static IEndpointRouteBuilder MapActivityEndpoints(this IEndpointRouteBuilder app)
    {
        var management = app.MapManagementGroup();
        management.MapGet("/team/daily/activity", Team)
            .WithSummary("Spend, tokens and requests per UTC day of the given teams (or all the caller may read), by model, provider and key; newest day first");
        management.MapGet("/user/daily/activity", User)
            .WithSummary("Spend, tokens and requests per UTC day of one user (the caller, or any user for the proxy admin), by model, provider and key; newest day first");
        return app;
    }

    private static async Task<Ok<ActivityReportJson>> Team(
        HttpContext http, DailyActivity activity,
        [Description("Comma-separated team ids; without it (nor team_id), every team the caller may read.")] string? team_ids,
        [Description("One team id (added to team_ids).")] string? team_id,
        [Description("The first UTC day, YYYY-MM-DD (required).")] string? start_date,
        [Description("The last UTC day, YYYY-MM-DD, included (required).")] string? end_date,
        [Description("Only this public model name.")] string? model,
        [Description("Only this key: the raw sk-... key or its SHA-256 hex.")] string? api_key,
        [Description("Page of days, from 1.")] string? page,
        [Description("Days per page, 1 to 1000 (default 10).")] string? page_size)
    {
        RefuseUnknown(http, TeamParameters);
        var teams = (team_ids ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Concat(string.IsNullOrWhiteSpace(team_id) ? [] : [team_id.Trim()]).Distinct(StringComparer.Ordinal).ToList();
        var query = Query(start_date, end_date, model, api_key, page, page_size, TeamPageSize) with { TeamIds = teams.Count == 0 ? null : teams };
        return TypedResults.Ok(ActivityReportJson.Of(await activity.ForTeamsAsync(http.Caller(), query, http.RequestAborted)));
    }

    private static async Task<Ok<ActivityReportJson>> User(
        HttpContext http, DailyActivity activity,
        [Description("The user; only the proxy admin may name another user (without it: the caller's own, or every user's for the proxy admin).")] string? user_id,
        [Description("The first UTC day, YYYY-MM-DD (required).")] string? start_date,
        [Description("The last UTC day, YYYY-MM-DD, included (required).")] string? end_date,
        [Description("Only this public model name.")] string? model,
        [Description("Only this key: the raw sk-... key or its SHA-256 hex.")] string? api_key,
        [Description("Page of days, from 1.")] string? page,
        [Description("Days per page, 1 to 1000 (default 50).")] string? page_size)
    {
        RefuseUnknown(http, UserParameters);
        var query = Query(start_date, end_date, model, api_key, page, page_size, UserPageSize) with { UserId = Given(user_id) };
        return TypedResults.Ok(ActivityReportJson.Of(await activity.ForUserAsync(http.Caller(), query, http.RequestAborted)));
    }

    /// <summary>A parameter the route does not know is a 400, never a filter silently ignored.</summary>
    private static void RefuseUnknown(HttpContext http, HashSet<string> known)
    {
        foreach (var name in http.Request.Query.Keys)
        {
            if (!known.Contains(name))
            {
                throw ProxyError.BadRequest($"{name} is not a parameter of {http.Request.Path}: it takes {string.Join(", ", known)}.", name);
            }
        }
    }

    private static ActivityQuery Query(string? startDate, string? endDate, string? model, string? apiKey, string? page, string? pageSize, int defaultPageSize)
    {
        var start = Day(startDate, "start_date");
        var end = Day(endDate, "end_date");
        if (end < start)
        {
            throw ProxyError.BadRequest($"end_date ({endDate}) is before start_date ({startDate}): give an end on or after the start.", "end_date");
        }
        return new ActivityQuery(start, end)
        {
            Model = Given(model),
            KeyHash = Given(apiKey) is { } key ? KeyMaterial.ToHash(key) : null,
            Page = Paging.Number(page, "page", 1, 1, int.MaxValue),
            PageSize = Paging.Number(pageSize, "page_size", defaultPageSize, 1, ActivityQuery.MaxPageSize),
        };
    }

    /// <summary>A UTC day as LiteLLM takes it (<c>YYYY-MM-DD</c>); required, as in LiteLLM.</summary>
    private static DateOnly Day(string? value, string param)
    {
        if (string.IsNullOrEmpty(value))
        {
            throw ProxyError.BadRequest($"Please provide start_date and end_date: {param} is required, a UTC day as YYYY-MM-DD (e.g. 2026-01-31).", param);
        }
        return DateOnly.TryParseExact(value, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day)
            ? day
            : throw ProxyError.BadRequest($"{param}={value} is not a date: give a UTC day as YYYY-MM-DD (e.g. 2026-01-31).", param);
    }

    /// <summary>An empty parameter (<c>?model=</c>) filters nothing, as LiteLLM's truthiness checks do.</summary>
    private static string? Given(string? value) => string.IsNullOrEmpty(value) ? null : value;
}
