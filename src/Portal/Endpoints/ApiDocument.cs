using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using Scalar.AspNetCore;

namespace Portal.Endpoints;

/// <summary>
/// The OpenAPI 3.1 document of every REST and LLM route at <c>/openapi/v1.json</c>, generated from the routes
/// themselves (their parameters, the <c>Accepts</c> body types and the typed results), and Scalar's page for it at
/// <c>/docs</c> (its assets are embedded in the package: nothing is fetched from a CDN).
/// </summary>
public static class ApiDocument
{
    public const string Json = "application/json";
    public const string Path = "/openapi/v1.json";
    private const string KeyScheme = "virtual_key";

    /// <summary>What every route may answer besides its own result, all in the error envelope.</summary>
    private static readonly (int Status, string Description)[] Errors =
    [
        (400, "Bad input, an unknown model, or a budget exceeded (type budget_exceeded)"),
        (401, "No key, an unknown, expired or blocked key"),
        (403, "The key may not do this"),
        (404, "Not found, or not visible to the caller"),
        (429, "A rate limit (rpm, tpm or max_parallel_requests) was reached; Retry-After says when to retry"),
        (500, "An unexpected fault (logged by the gateway; no details in the answer)"),
    ];

    public static IServiceCollection AddApiDocument(this IServiceCollection services) =>
        services.AddOpenApi("v1", options =>
        {
            options.OpenApiVersion = OpenApiSpecVersion.OpenApi3_1;
            options.ShouldInclude = description => description.RelativePath is { } path && !path.StartsWith("Account", StringComparison.OrdinalIgnoreCase);
            options.AddDocumentTransformer((document, _, _) =>
            {
                document.Info = new OpenApiInfo
                {
                    Title = "LLM gateway for teams",
                    Version = "v1",
                    Description = "LiteLLM's proxy API: teams, keys and team models (a team brings its own models and provider keys), "
                        + "and OpenAI's routes. Every error has the shape {\"error\": {\"message\", \"type\", \"param\", \"code\"}}.",
                };
                document.Components ??= new OpenApiComponents();
                document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
                document.Components.SecuritySchemes[KeyScheme] = new OpenApiSecurityScheme
                {
                    Type = SecuritySchemeType.Http,
                    Scheme = "bearer",
                    Description = "The master key or a virtual key (sk-...), as Authorization: Bearer. "
                        + "x-litellm-api-key, api-key (Azure SDKs) and x-api-key are read too.",
                };
                return Task.CompletedTask;
            });
            // Records that keep unknown fields (litellm_params, model_info) say so, as JSON Schema does.
            options.AddSchemaTransformer((schema, context, _) =>
            {
                if (context.JsonTypeInfo.Type.GetProperties().Any(p => p.IsDefined(typeof(System.Text.Json.Serialization.JsonExtensionDataAttribute), true)))
                {
                    schema.AdditionalProperties = new OpenApiSchema { Description = "Any other field, returned as it was given." };
                }
                return Task.CompletedTask;
            });
            options.AddOperationTransformer(async (operation, context, ct) =>
            {
                var metadata = context.Description.ActionDescriptor.EndpointMetadata;
                var anonymous = metadata.OfType<IAllowAnonymous>().Any();
                operation.Tags = new HashSet<OpenApiTagReference> { new(Tag(context.Description.RelativePath), context.Document) };
                if (!anonymous)
                {
                    operation.Security ??= [];
                    operation.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(KeyScheme, context.Document)] = [] });
                }
                var envelope = await context.GetOrCreateSchemaAsync(typeof(ErrorEnvelope), null, ct);
                context.Document!.AddComponent(nameof(ErrorEnvelope), envelope);
                operation.Responses ??= [];
                foreach (var (status, description) in Errors.Where(e => !anonymous || e.Status == 500))
                {
                    operation.Responses.TryAdd(status.ToString(System.Globalization.CultureInfo.InvariantCulture), new OpenApiResponse
                    {
                        Description = description,
                        Content = new Dictionary<string, OpenApiMediaType>
                        {
                            [Json] = new() { Schema = new OpenApiSchemaReference(nameof(ErrorEnvelope), context.Document) },
                        },
                    });
                }
            });
        });

    public static WebApplication MapApiDocument(this WebApplication app)
    {
        app.MapOpenApi("/openapi/{documentName}.json").AllowAnonymous();
        app.MapScalarApiReference("/docs", options => options
                .WithTitle("LLM gateway API")
                .WithOpenApiRoutePattern(Path))
            .AllowAnonymous();
        return app;
    }

    /// <summary>Operations are grouped by what they manage: /team/* under Teams, and so on.</summary>
    private static string Tag(string? relativePath) => relativePath?.Split('/')[0] switch
    {
        "team" => "Teams",
        "key" => "Keys",
        "model" or "v2" or "models" => "Models",
        "v1" when relativePath.StartsWith("v1/model", StringComparison.Ordinal) => "Models",
        "user" => "Users",
        "spend" or "audit" => "Spend and audit",
        "health" => "Health",
        _ => "LLM",
    };
}
