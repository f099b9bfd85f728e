using System.ComponentModel;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Proxy.Core.Access;
using Proxy.Core.Forwarding;
using Proxy.Core.Persistence;
using Proxy.Core.Routing;

namespace Portal.Endpoints;

/// <summary>docs/api.md section 7: the probes need no key; <c>/health</c> checks the caller's models and needs one.</summary>
public static class HealthEndpoints
{
    public static IEndpointRouteBuilder MapHealthEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/health/liveliness", Alive).WithSummary("Liveness probe: the process answers").Produces<string>(200).AllowAnonymous();
        app.MapGet("/health/liveness", Alive).WithSummary("Liveness probe (alias)").Produces<string>(200).AllowAnonymous();
        app.MapGet("/health/readiness", Ready).WithSummary("Readiness probe: database reachable, migrations applied, route snapshot loaded")
            .WithDescription("200 when all three hold, else 503 with the same body saying which does not.").Produces<Readiness>(200).Produces<Readiness>(503).AllowAnonymous();
        app.MapGet("/health", Models).WithSummary("Test calls to the caller's models (or ?model=), deployment by deployment");
        return app;
    }

    /// <summary>LiteLLM's shape: healthy and unhealthy endpoints with their counts; api_base but never a key.</summary>
    private static async Task<Ok<ModelHealthResponse>> Models(HttpContext http, ConnectionProbe probe, string? model)
    {
        var checks = await probe.CheckHealthAsync(http.Caller(), model, http.RequestAborted);
        static EndpointHealthJson Entry(DeploymentHealth h) => new(h.Model, h.Deployment.ModelId, h.Deployment.Provider, h.Deployment.ApiBase.AbsoluteUri,
            h.Test.Status, Math.Round(h.Test.Elapsed.TotalMilliseconds, 1), h.Test.Succeeded ? null : h.Test.Message, h.CoolingDownUntil);
        var healthy = checks.Where(c => c.Test.Succeeded).Select(Entry).ToList();
        var unhealthy = checks.Where(c => !c.Test.Succeeded).Select(Entry).ToList();
        return TypedResults.Ok(new ModelHealthResponse(healthy, unhealthy, healthy.Count, unhealthy.Count));
    }

    private static JsonHttpResult<string> Alive() => TypedResults.Json("I'm alive!");

    /// <summary>
    /// Ready when this instance can serve: the database answers, it has every migration this build knows (another
    /// instance may have been rolled back, or start-up raced a restore), and the route snapshot is loaded.
    /// </summary>
    private static async Task<JsonHttpResult<Readiness>> Ready(PortalDb db, RouteTable routes, CancellationToken ct)
    {
        var connected = false;
        int? pending = null;
        try
        {
            connected = await db.Database.CanConnectAsync(ct);
            pending = connected ? (await db.Database.GetPendingMigrationsAsync(ct)).Count() : null;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Reported as "disconnected" or unknown migrations below; the exception may name hosts but never secrets, and is not needed here.
        }
        var snapshot = routes.Current;
        var loaded = snapshot.Version >= 0;
        var ready = connected && pending == 0 && loaded;
        var body = new Readiness(
            ready ? "healthy" : "unhealthy",
            connected ? "connected" : "disconnected",
            pending switch { 0 => "applied", null => "unknown", var n => $"{n} pending" },
            loaded ? "loaded" : "not loaded",
            snapshot.Version,
            snapshot.Groups.Count,
            snapshot.KeysByHash.Count);
        return TypedResults.Json(body, statusCode: ready ? 200 : 503);
    }
}

public sealed record Readiness(
    [property: Description("healthy or unhealthy.")] string Status,
    [property: Description("connected or disconnected.")] string Db,
    [property: Description("applied, N pending, or unknown (no database).")] string Migrations,
    [property: Description("loaded or not loaded.")] string RouteSnapshot,
    long RouteSnapshotVersion,
    int Models,
    int Keys);

public sealed record EndpointHealthJson(string Model, string ModelId, string CustomLlmProvider, string ApiBase, int Status, double LatencyMs, string? Error, DateTime? CoolingDownUntil);

public sealed record ModelHealthResponse(IReadOnlyList<EndpointHealthJson> HealthyEndpoints, IReadOnlyList<EndpointHealthJson> UnhealthyEndpoints, int HealthyCount, int UnhealthyCount);
