using Microsoft.EntityFrameworkCore;
using Proxy.Core.Persistence;
using Proxy.Core.Routing;

namespace Portal.Endpoints;

/// <summary>API.md section 7. No key needed.</summary>
public static class HealthEndpoints
{
    public static IEndpointRouteBuilder MapHealthEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/health/liveliness", Alive);
        app.MapGet("/health/liveness", Alive);
        app.MapGet("/health/readiness", Ready);
        return app;
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
