using System.Collections.Frozen;
using System.ComponentModel;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Proxy.Core.Forwarding;

namespace Portal.Endpoints;

/// <summary>docs/api.md section 6: the OpenAI-compatible routes, forwarded by <see cref="LlmProxy"/>.</summary>
public static class LlmEndpoints
{
    /// <summary>The OpenAI routes, each at <c>/v1/{path}</c> and <c>/{path}</c>: mapped below, and answered by the slim branch.</summary>
    private static readonly (string Path, LlmRoute Route, string Summary)[] Routes =
    [
        ("chat/completions", LlmRoute.ChatCompletions, "Chat completion (OpenAI), streamed with \"stream\": true"),
        ("completions", LlmRoute.Completions, "Text completion (OpenAI)"),
        ("embeddings", LlmRoute.Embeddings, "Embeddings (OpenAI)"),
        ("responses", LlmRoute.Responses, "Responses (OpenAI): passed through to OpenAI and Azure, translated for chat-only models"),
        ("images/generations", LlmRoute.ImageGenerations, "Image generation (OpenAI)"),
        ("moderations", LlmRoute.Moderations, "Moderation (OpenAI); model is required"),
        ("audio/speech", LlmRoute.AudioSpeech, "Text to speech (OpenAI): the audio is relayed as it arrives"),
        ("audio/transcriptions", LlmRoute.AudioTranscriptions, "Speech to text (OpenAI): a multipart/form-data body with file and model"),
        ("messages", LlmRoute.Messages, "Messages (Anthropic), streamed with \"stream\": true: passed through to Anthropic models, translated for the others"),
        ("messages/count_tokens", LlmRoute.MessagesCountTokens, "Count a Messages request's input tokens (Anthropic; counted by the gateway for other models); free, no usage record"),
    ];

    /// <summary>The routes also served at Azure OpenAI's paths, <c>/openai/deployments/{model}/{path}</c> (Azure has no moderations).</summary>
    private static readonly (LlmRoute Route, string Summary)[] AzureRoutes =
    [
        (LlmRoute.ChatCompletions, "Chat completion"),
        (LlmRoute.Embeddings, "Embeddings"),
        (LlmRoute.ImageGenerations, "Image generation"),
        (LlmRoute.AudioSpeech, "Text to speech"),
        (LlmRoute.AudioTranscriptions, "Speech to text (multipart/form-data; the form's model field may be left out)"),
    ];

    private static readonly FrozenDictionary<string, LlmRoute> Paths = Routes
        .SelectMany(r => new[] { KeyValuePair.Create($"/v1/{r.Path}", r.Route), KeyValuePair.Create($"/{r.Path}", r.Route) })
        .ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// The LLM routes' slim branch: their POSTs are answered here, ahead of the exception handler, the status-code
    /// pages, routing, cookie authentication, authorization, antiforgery and the portal, none of which has anything to
    /// do for a call whose only credential is its key. Call ids wrap it; what it throws gets the error envelope from
    /// <see cref="ApiErrors.Enveloped"/>. ASP.NET Core's own request
    /// metrics skip these calls: the gateway's meters count them, by team and public model (what this saves:
    /// docs/performance.md). The endpoints mapped below stay for the API document and for 405s on other methods.
    /// </summary>
    public static WebApplication UseLlmRoutes(this WebApplication app)
    {
        var proxy = app.Services.GetRequiredService<LlmProxy>();
        app.Use((http, next) =>
        {
            if (!IsLlmCall(http.Request, out var route))
            {
                return next(http);
            }
            if (http.Features.Get<IHttpMetricsTagsFeature>() is { } metrics)
            {
                metrics.MetricsDisabled = true;
            }
            return ApiErrors.Enveloped(http, proxy.ForwardAsync(http, route));
        });
        return app;
    }

    /// <summary>
    /// The dialect a request's errors are written in: its LLM route's (any method), or Anthropic's for a model list asked
    /// for with <c>anthropic-version</c> (the Anthropic SDKs' <c>models.list()</c>, answered in Anthropic's shape); OpenAI's elsewhere.
    /// </summary>
    public static ApiDialect DialectOf(HttpRequest request) =>
        request.Path.Value is { } value && Paths.TryGetValue(value, out var route) ? route.Dialect
        : request.Path.Value is "/v1/models" or "/models" && request.Headers.ContainsKey("anthropic-version") ? ApiDialect.Anthropic
        : ApiDialect.OpenAI;

    private static bool IsLlmCall(HttpRequest request, [System.Diagnostics.CodeAnalysis.MaybeNullWhen(false)] out LlmRoute route)
    {
        if (HttpMethods.IsPost(request.Method) && request.Path.Value is { } path)
        {
            return Paths.TryGetValue(path, out route);
        }
        route = null;
        return false;
    }

    /// <summary>
    /// ASP.NET Core sets <see cref="IHttpContextAccessor"/> as each request starts (Identity registers it for the
    /// portal): an AsyncLocal, so a new ExecutionContext that every await of the request then carries and restores.
    /// Nothing on an LLM call's path reads it, so LLM calls are left out of it and run in the default context.
    /// </summary>
    public static IServiceCollection AddLlmRoutes(this IServiceCollection services) =>
        services.Replace(ServiceDescriptor.Singleton<IHttpContextAccessor, AccessorForAllButLlmCalls>());

    private sealed class AccessorForAllButLlmCalls : IHttpContextAccessor
    {
        private readonly HttpContextAccessor _accessor = new();

        public HttpContext? HttpContext
        {
            get => _accessor.HttpContext;
            set
            {
                if (value is null || !IsLlmCall(value.Request, out _))
                {
                    _accessor.HttpContext = value;
                }
            }
        }
    }

    public static IEndpointRouteBuilder MapLlmEndpoints(this IEndpointRouteBuilder app)
    {
        foreach (var (path, route, summary) in Routes)
        {
            Document(app.MapPost($"/v1/{path}", (HttpContext http, LlmProxy proxy) => proxy.ForwardAsync(http, route)), route, summary);
            Document(app.MapPost($"/{path}", (HttpContext http, LlmProxy proxy) => proxy.ForwardAsync(http, route)), route, summary);
        }
        foreach (var (route, summary) in AzureRoutes)
        {
            Document(app.MapPost($"/openai/deployments/{{model}}/{route.Operation}", (HttpContext http, LlmProxy proxy, string model) => proxy.ForwardAsync(http, route, model)),
                route, $"{summary}, Azure OpenAI's path (the model is in the path)");
        }
        return app;
    }

    private static void Document(RouteHandlerBuilder endpoint, LlmRoute route, string summary)
    {
        endpoint.WithTags("LLM").WithSummary(summary).WithDescription(route.IsForm
            ? "The form is OpenAI's for this route (file, model, and the route's own fields), forwarded unchanged except the model field's value, "
                + "which names a public model the key may call (the team's alias table first, then global models). "
                + "Answers carry x-litellm-call-id and x-litellm-model-id."
            : "The body is OpenAI's for this route, forwarded unchanged except model, which names a public model the key may call "
                + "(the team's alias table first, then global models). With \"stream\": true the answer is text/event-stream, relayed chunk by chunk. "
                + "Answers carry x-litellm-call-id and x-litellm-model-id.");
        if (route.Dialect == ApiDialect.Anthropic)
        {
            endpoint.WithDescription("Anthropic's Messages API as Anthropic documents it: the key as x-api-key or Authorization: Bearer; "
                + "the body is forwarded to the model's Anthropic deployment unchanged except model, with the caller's anthropic-version "
                + "and anthropic-beta; for a model on another provider it is translated to chat completions and the answer back. "
                + "Answers and errors are in Anthropic's shapes (docs/coding-tools.md: what is translated, dropped and refused).");
            endpoint.Accepts<JsonObject>(ApiDocument.Json).Produces<JsonObject>(200).Produces<AnthropicErrorEnvelope>(400);
        }
        else if (route == LlmRoute.ChatCompletions)
        {
            // With "stream": true the answer is text/event-stream: chat.completion.chunk objects, then data: [DONE].
            endpoint.Accepts<ChatCompletionRequest>(ApiDocument.Json).Produces<ChatCompletion>(200);
        }
        else if (route == LlmRoute.AudioTranscriptions)
        {
            endpoint.Accepts<TranscriptionForm>("multipart/form-data").Produces<JsonObject>(200);
        }
        else if (route == LlmRoute.AudioSpeech)
        {
            // The provider's audio bytes, in the format asked for (response_format: mp3 by default).
            endpoint.Accepts<LlmRequest>(ApiDocument.Json).Produces<Stream>(200, "audio/mpeg", "audio/wav", "audio/opus", "audio/aac", "audio/flac", "audio/pcm");
        }
        else
        {
            endpoint.Accepts<LlmRequest>(ApiDocument.Json).Produces<JsonObject>(200);
        }
    }
}

/// <summary>OpenAI's body: model and the route's own fields, plus the gateway's routing fields, which are never forwarded.</summary>
public record LlmRequest
{
    [Description("A public model name the key may call.")]
    public string Model { get; init; } = "";

    [Description("Models to try, in order, if this one fails (LiteLLM's request fallbacks).")]
    public IReadOnlyList<string>? Fallbacks { get; init; }

    [Description("Retries on the model's other deployments; overrides the team's router_settings.num_retries.")]
    public int? NumRetries { get; init; }

    [Description("Models to try when the prompt is too long for this one.")]
    public IReadOnlyList<string>? ContextWindowFallbacks { get; init; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Rest { get; init; }
}

/// <summary>OpenAI's transcription form: the audio file and the model, plus the route's own fields (language, prompt, response_format, ...).</summary>
public sealed record TranscriptionForm
{
    [Description("The audio file (flac, mp3, mp4, mpeg, mpga, m4a, ogg, wav or webm), passed to the provider byte for byte.")]
    public IFormFile? File { get; init; }

    [Description("A public model name the key may call.")]
    public string Model { get; init; } = "";
}

public sealed record ChatCompletionRequest : LlmRequest
{
    public IReadOnlyList<ChatMessage> Messages { get; init; } = [];

    [Description("true: the answer is text/event-stream, relayed chunk by chunk.")]
    public bool? Stream { get; init; }
}

public sealed record ChatMessage(
    [property: Description("system, user, assistant or tool.")] string Role,
    [property: Description("Text, or a list of content parts.")] JsonNode? Content);

public sealed record ChatCompletion(string Id, string Object, long Created, string Model, IReadOnlyList<ChatChoice> Choices, TokenUsage? Usage);

public sealed record ChatChoice(int Index, ChatMessage Message, string? FinishReason);

public sealed record TokenUsage(int PromptTokens, int CompletionTokens, int TotalTokens);
