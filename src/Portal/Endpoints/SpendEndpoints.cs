using System.ComponentModel;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.HttpResults;
using Proxy.Core.Access;
using Proxy.Core.Usage;

namespace Portal.Endpoints;

/// <summary>Recorded LLM calls of a team (<c>GET /spend/logs?team_id=</c>), for its admins and the proxy admin.</summary>
public static class SpendEndpoints
{
    public static IEndpointRouteBuilder MapSpendEndpoints(this IEndpointRouteBuilder app)
    {
        var management = app.MapManagementGroup();
        management.MapGet("/spend/logs", List).WithSummary("A team's recorded LLM calls, newest first, one row per attempt");
        return app;
    }

    private static async Task<Ok<List<SpendLogJson>>> List(HttpContext http, UsageLog usage, string? team_id, string? page, string? size)
    {
        var caller = http.Caller();
        var (pageNumber, pageSize) = Paging.Validate(page, size);
        var (records, _) = await usage.ListAsync(caller, team_id, pageNumber, pageSize, http.RequestAborted);
        return TypedResults.Ok(records.Select(r => new SpendLogJson(r.CallId, r.Attempt, r.KeyHash, r.TeamId, r.UserId, r.Model, r.ModelId, r.Deployment,
            r.Route, r.Status, r.PromptTokens, r.CompletionTokens, r.TotalTokens, r.TokensEstimated, r.Spend, r.LatencyMs, r.StartedAt)).ToList());
    }
}

/// <summary>One attempt of an LLM call, as LiteLLM's spend log row.</summary>
public sealed record SpendLogJson(
    [property: Description("The call id (x-litellm-call-id); a call retried on other deployments has one row per attempt.")] string RequestId,
    int Attempt,
    [property: Description("The SHA-256 hex of the key that called (LiteLLM's field name); never the raw key.")] string ApiKey,
    string? TeamId,
    string? User,
    [property: Description("The public model name the caller sent.")] string Model,
    string? ModelId,
    string? Deployment,
    string CallType,
    int Status,
    int PromptTokens,
    int CompletionTokens,
    int TotalTokens,
    [property: Description("True when the provider reported no usage and the tokens were counted by the gateway.")] bool TokensEstimated,
    [property: Description("USD.")] double Spend,
    double LatencyMs,
    [property: JsonPropertyName("startTime")] DateTime StartTime);
