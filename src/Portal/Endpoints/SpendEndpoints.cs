using Proxy.Core.Access;
using Proxy.Core.Usage;

namespace Portal.Endpoints;

/// <summary>Recorded LLM calls of a team (<c>GET /spend/logs?team_id=</c>), for its admins and the proxy admin.</summary>
public static class SpendEndpoints
{
    public static IEndpointRouteBuilder MapSpendEndpoints(this IEndpointRouteBuilder app)
    {
        var management = app.MapManagementGroup();
        management.MapGet("/spend/logs", List);
        return app;
    }

    private static async Task<IResult> List(HttpContext http, UsageLog usage, string? team_id, string? page, string? size)
    {
        var caller = http.Caller();
        var (pageNumber, pageSize) = Paging.Validate(page, size);
        var (records, _) = await usage.ListAsync(caller, team_id, pageNumber, pageSize, http.RequestAborted);
        return TypedResults.Ok(records.Select(r => new
        {
            request_id = r.CallId,
            attempt = r.Attempt,
            api_key = r.KeyHash,
            team_id = r.TeamId,
            user = r.UserId,
            model = r.Model,
            model_id = r.ModelId,
            deployment = r.Deployment,
            call_type = r.Route,
            status = r.Status,
            prompt_tokens = r.PromptTokens,
            completion_tokens = r.CompletionTokens,
            total_tokens = r.TotalTokens,
            tokens_estimated = r.TokensEstimated,
            spend = r.Spend,
            latency_ms = r.LatencyMs,
            startTime = r.StartedAt,
        }));
    }
}
