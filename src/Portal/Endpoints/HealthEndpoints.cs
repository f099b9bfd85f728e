using Microsoft.EntityFrameworkCore;
using Proxy.Core.Access;
using Proxy.Core.Forwarding;
using Proxy.Core.Persistence;
using Proxy.Core.Routing;

namespace Portal.Endpoints;

/// <summary>API.md section 7: the probes need no key; <c>/health</c> checks the caller's models and needs one.</summary>
public static class HealthEndpoints
{
    public static IEndpointRouteBuilder MapHealthEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/health/liveliness", Alive);
        app.MapGet("/health/liveness", Alive);
        app.MapGet("/health/readiness", Ready);
        app.MapGet("/health", Models);
        return app;
    }

    /// <summary>LiteLLM's shape: healthy and unhealthy endpoints with their counts; api_base but never a key.</summary>
    private static async Task<IResult> Models(HttpContext http, LlmProxy proxy, string? model)
    {
        var checks = await proxy.CheckHealthAsync(http.Caller(), model, http.RequestAborted);
        object Entry(DeploymentHealth h) => new
        {
            model = h.Model,
            model_id = h.Deployment.ModelId,
            custom_llm_provider = h.Deployment.Provider,
            api_base = h.Deployment.ApiBase.AbsoluteUri,
            status = h.Test.Status,
            latency_ms = Math.Round(h.Test.Elapsed.TotalMilliseconds, 1),
            error = h.Test.Succeeded ? null : h.Test.Message,
            cooling_down_until = h.CoolingDownUntil,
        };
        var healthy = checks.Where(c => c.Test.Succeeded).Select(Entry).ToList();
        var unhealthy = checks.Where(c => !c.Test.Succeeded).Select(Entry).ToList();
        return TypedResults.Ok(new { healthy_endpoints = healthy, unhealthy_endpoints = unhealthy, healthy_count = healthy.Count, unhealthy_count = unhealthy.Count });
    }

    private static IResult Alive() => TypedResults.Json("I'm alive!");

    private static async Task<IResult> Ready(PortalDb db, RouteTable routes, CancellationToken ct)
    {
        var connected = false;
        try
        {
            connected = await db.Database.CanConnectAsync(ct);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Reported as "disconnected" below; the exception may name hosts but never secrets, and is not needed here.
        }
        var snapshot = routes.Current;
        var body = new
        {
            status = connected ? "healthy" : "unhealthy",
            db = connected ? "connected" : "disconnected",
            route_snapshot_version = snapshot.Version,
            models = snapshot.Groups.Count,
            keys = snapshot.KeysByHash.Count,
        };
        return TypedResults.Json(body, statusCode: connected ? 200 : 503);
    }
}
