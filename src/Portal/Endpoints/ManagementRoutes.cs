using Proxy.Core;
using Proxy.Core.Access;

namespace Portal.Endpoints;

/// <summary>The management surface: every route in it authenticates first and refuses keys meant for LLM routes only.</summary>
public static class ManagementRoutes
{
    public static RouteGroupBuilder MapManagementGroup(this IEndpointRouteBuilder app) =>
        app.MapGroup("").AddEndpointFilter(async (context, next) =>
        {
            if (!Rules.CanUseManagementRoutes(context.HttpContext.Caller()))
            {
                throw ProxyError.Forbidden("This is an llm_api key: it can only call models (and /v1/models, /model/info). Use a default or management key.");
            }
            var answer = await next(context);
            RequestBody.DemandFinished(context.HttpContext);
            return answer;
        });
}
