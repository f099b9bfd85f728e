using Microsoft.AspNetCore.Http.HttpResults;
using Proxy.Core.Access;
using Proxy.Core.Audit;

namespace Portal.Endpoints;

/// <summary>A team's audit events, for its admins and the proxy admin.</summary>
public static class AuditEndpoints
{
    public static IEndpointRouteBuilder MapAuditEndpoints(this IEndpointRouteBuilder app)
    {
        var management = app.MapManagementGroup();
        management.MapGet("/audit", List).WithSummary("A team's audit events, newest first (team admins and the proxy admin)");
        return app;
    }

    private static async Task<Ok<AuditListResponse>> List(HttpContext http, AuditLog audit, string? team_id, string? page, string? size)
    {
        var caller = http.Caller();
        var (pageNumber, pageSize) = Paging.Validate(page, size);
        var (events, total) = await audit.ListAsync(caller, team_id, pageNumber, pageSize, http.RequestAborted);
        return TypedResults.Ok(new AuditListResponse([.. events.Select(ApiJson.Audit)], total, pageNumber));
    }
}

public sealed record AuditListResponse(IReadOnlyList<AuditJson> Data, int TotalCount, int CurrentPage);
