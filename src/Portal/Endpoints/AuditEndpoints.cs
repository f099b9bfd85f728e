using Proxy.Core.Access;
using Proxy.Core.Audit;

namespace Portal.Endpoints;

/// <summary>A team's audit events, for its admins and the proxy admin.</summary>
public static class AuditEndpoints
{
    public static IEndpointRouteBuilder MapAuditEndpoints(this IEndpointRouteBuilder app)
    {
        var management = app.MapManagementGroup();
        management.MapGet("/audit", List);
        return app;
    }

    private static async Task<IResult> List(HttpContext http, AuditLog audit, string? team_id, string? page, string? size)
    {
        var caller = http.Caller();
        var (pageNumber, pageSize) = Paging.Validate(page, size);
        var (events, total) = await audit.ListAsync(caller, team_id, pageNumber, pageSize, http.RequestAborted);
        return TypedResults.Ok(new { data = events.Select(ApiJson.Audit), total_count = total, current_page = pageNumber });
    }
}
