using Proxy.Core.Forwarding;

namespace Portal.Endpoints;

/// <summary>API.md section 6: the OpenAI-compatible routes, forwarded by <see cref="LlmProxy"/>.</summary>
public static class LlmEndpoints
{
    public static IEndpointRouteBuilder MapLlmEndpoints(this IEndpointRouteBuilder app)
    {
        foreach (var (path, route) in new[]
        {
            ("chat/completions", LlmRoute.ChatCompletions),
            ("completions", LlmRoute.Completions),
            ("embeddings", LlmRoute.Embeddings),
            ("responses", LlmRoute.Responses),
        })
        {
            app.MapPost($"/v1/{path}", (HttpContext http, LlmProxy proxy) => proxy.ForwardAsync(http, route));
            app.MapPost($"/{path}", (HttpContext http, LlmProxy proxy) => proxy.ForwardAsync(http, route));
        }
        app.MapPost("/openai/deployments/{model}/chat/completions", (HttpContext http, LlmProxy proxy, string model) => proxy.ForwardAsync(http, LlmRoute.ChatCompletions, model));
        app.MapPost("/openai/deployments/{model}/embeddings", (HttpContext http, LlmProxy proxy, string model) => proxy.ForwardAsync(http, LlmRoute.Embeddings, model));
        return app;
    }
}
