using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Portal.Tests.Infrastructure;

/// <summary>
/// Vertex AI on a real port, checking what Google's front end checks before a model sees the call: a Bearer token that
/// <see cref="Google"/> issued and has not expired, to an account of the project in the path (else 401
/// UNAUTHENTICATED / 403 PERMISSION_DENIED in Google's error shape), and a path
/// <c>/v1/projects/{project}/locations/{location}/publishers/{publisher}/models/{model}:{verb}</c> with a known verb.
/// Claude (<c>publishers/anthropic</c>, <c>:rawPredict</c> / <c>:streamRawPredict</c>) also needs
/// <c>anthropic_version</c> <c>vertex-2023-10-16</c> in the body, no <c>model</c> there, and <c>stream</c> as the verb
/// says; then it answers as Anthropic does (<see cref="AnthropicStandIn"/>, given the model named by the path).
/// The api_base a test registers is <c>{BaseAddress}/{scenario}-{id}</c>: <c>vertex</c> answers; <c>vertexcode</c>
/// answers Claude Code's text; <c>vertex429</c> is Google's RESOURCE_EXHAUSTED; <c>vertex500</c> an internal error.
/// </summary>
public sealed partial class VertexStandIn : IAsyncDisposable
{
    private readonly WebApplication _app;

    public VertexStandIn(GoogleTokenStandIn google)
    {
        Google = google;
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        _app = builder.Build();
        _app.Run(HandleAsync);
        _app.StartAsync().GetAwaiter().GetResult();
        BaseAddress = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
    }

    public GoogleTokenStandIn Google { get; }
    public string BaseAddress { get; }
    public ConcurrentQueue<ReceivedRequest> Received { get; } = new();

    public string ApiBase(string scenario, out string id)
    {
        id = $"{scenario}-{Guid.NewGuid():N}";
        return $"{BaseAddress}/{id}";
    }

    public IReadOnlyList<ReceivedRequest> ReceivedBy(string id) => Received.Where(r => r.Path.StartsWith($"/{id}/", StringComparison.Ordinal)).ToList();

    [GeneratedRegex("^/(?<id>[^/]+)/v1/projects/(?<project>[^/]+)/locations/(?<location>[^/]+)/publishers/(?<publisher>[^/]+)/models/(?<model>[^/:]+):(?<verb>[A-Za-z]+)$")]
    private static partial Regex ModelPath();

    [GeneratedRegex("^/(?<id>[^/]+)/v1beta1/publishers/(?<publisher>[^/]+)/models$")]
    private static partial Regex ListPath();

    /// <summary>
    /// Model Garden's publisher models with every version (Google's versions are numbers, Claude's dates), each
    /// publisher's in pages of two with Google's page tokens; text and other models mixed, as Google lists them.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, (string Name, string Version)[]> PublisherModels = new Dictionary<string, (string, string)[]>
    {
        ["google"] = [("gemini-2.5-flash", "001"), ("imagen-4.0-generate-001", "001"), ("gemini-2.5-pro", "001"), ("text-embedding-005", "001"), ("gemini-2.0-flash-001", "001")],
        ["anthropic"] = [("claude-sonnet-4-5", "20250929"), ("claude-opus-4-1", "20250805"), ("claude-3-haiku", "20240307")],
    };

    /// <summary><c>GET /v1beta1/publishers/{publisher}/models</c>: any valid token may read it (it is no project's), in pages.</summary>
    private async Task ListAsync(HttpContext http, string publisher)
    {
        var token = http.Request.Headers.Authorization.ToString() is { } authorization && authorization.StartsWith("Bearer ", StringComparison.Ordinal) ? authorization[7..] : null;
        if (token is null || Google.AccountOf(token) is null)
        {
            await GoogleError(http, 401, "UNAUTHENTICATED", "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.");
            return;
        }
        var models = PublisherModels.GetValueOrDefault(publisher, []);
        var start = int.TryParse(http.Request.Query["pageToken"], out var from) ? from : 0;
        var page = new JsonObject
        {
            ["publisherModels"] = new JsonArray([.. models.Skip(start).Take(2).Select(m => (JsonNode)new JsonObject
            {
                ["name"] = $"publishers/{publisher}/models/{m.Name}", ["versionId"] = http.Request.Query["listAllVersions"] == "true" ? m.Version : null, ["launchStage"] = "GA",
            })]),
        };
        if (start + 2 < models.Length)
        {
            page["nextPageToken"] = (start + 2).ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        await http.Response.WriteAsJsonAsync(page);
    }

    private async Task HandleAsync(HttpContext http)
    {
        using var reader = new StreamReader(http.Request.Body, Encoding.UTF8);
        var body = await reader.ReadToEndAsync();
        var headers = http.Request.Headers.ToDictionary(h => h.Key.ToLowerInvariant(), h => h.Value.ToString());
        Received.Enqueue(new ReceivedRequest(http.Request.Method, http.Request.Path, http.Request.QueryString.Value ?? "", headers, body));

        if (ListPath().Match(http.Request.Path.Value ?? "") is { Success: true } list && http.Request.Method == "GET")
        {
            await ListAsync(http, list.Groups["publisher"].Value);
            return;
        }
        var path = ModelPath().Match(http.Request.Path.Value ?? "");
        if (!path.Success || http.Request.Method != "POST")
        {
            await GoogleError(http, 404, "NOT_FOUND", $"The requested URL {http.Request.Path} was not found on this server.");
            return;
        }
        var token = http.Request.Headers.Authorization.ToString() is { } authorization && authorization.StartsWith("Bearer ", StringComparison.Ordinal) ? authorization[7..] : null;
        if (token is null || Google.AccountOf(token) is not { } account)
        {
            await GoogleError(http, 401, "UNAUTHENTICATED", "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.");
            return;
        }
        var project = path.Groups["project"].Value;
        if (!account.EndsWith($"@{project}.iam.gserviceaccount.com", StringComparison.Ordinal))
        {
            await GoogleError(http, 403, "PERMISSION_DENIED", $"Permission 'aiplatform.endpoints.predict' denied on resource '//aiplatform.googleapis.com/projects/{project}'.");
            return;
        }
        var scenario = path.Groups["id"].Value.Split('-')[0];
        if (scenario == "vertex429")
        {
            await GoogleError(http, 429, "RESOURCE_EXHAUSTED", "Quota exceeded for aiplatform.googleapis.com/online_prediction_requests_per_base_model with base model: claude.");
            return;
        }
        if (scenario == "vertex500")
        {
            await GoogleError(http, 500, "INTERNAL", "Internal error encountered.");
            return;
        }
        switch (path.Groups["publisher"].Value, path.Groups["verb"].Value)
        {
            case ("anthropic", "rawPredict" or "streamRawPredict"):
                await ClaudeAsync(http, scenario, path.Groups["model"].Value, path.Groups["verb"].Value == "streamRawPredict", body);
                return;
            case ("google", "generateContent" or "streamGenerateContent"):
                await GeminiAsync(http, path.Groups["model"].Value, path.Groups["verb"].Value == "streamGenerateContent", body);
                return;
            default:
                await GoogleError(http, 404, "NOT_FOUND", $"Publisher model {path.Groups["publisher"].Value}/{path.Groups["model"].Value}:{path.Groups["verb"].Value} is not found.");
                return;
        }
    }

    private static async Task ClaudeAsync(HttpContext http, string scenario, string model, bool streamVerb, string body)
    {
        var request = JsonNode.Parse(body)!.AsObject();
        if (request["anthropic_version"]?.GetValue<string>() != "vertex-2023-10-16")
        {
            await AnthropicError(http, "anthropic_version: Input should be 'vertex-2023-10-16'");
            return;
        }
        if (request.ContainsKey("model"))
        {
            await AnthropicError(http, "model: Extra inputs are not permitted");
            return;
        }
        if ((request["stream"]?.GetValue<bool>() == true) != streamVerb)
        {
            await AnthropicError(http, streamVerb ? "streamRawPredict requires \"stream\": true" : "rawPredict does not stream: use streamRawPredict");
            return;
        }
        // From here the call is Anthropic's: its stand-in answers, given what Anthropic's own endpoint gets.
        request.Remove("anthropic_version");
        request["model"] = model;
        http.Request.Path = "/v1/messages";
        http.Request.Headers.Authorization = default;
        http.Request.Headers["x-api-key"] = "vertex";
        http.Request.Headers["anthropic-version"] = "2023-06-01";
        await AnthropicStandIn.AnswerAsync(http, scenario == "vertexcode" ? "claudecode" : "claude", request.ToJsonString());
    }

    /// <summary>
    /// Gemini's <c>generateContent</c> as Vertex takes it: <c>contents</c> with roles user/model (Vertex requires them),
    /// parts of text, <c>functionCall</c> or <c>functionResponse</c>, no field Gemini does not know (<c>model</c>,
    /// <c>messages</c>...). It calls <c>get_weather</c> when offered tools and not yet answered; a stream is SSE only
    /// with <c>alt=sse</c> (else, as Vertex, one JSON array).
    /// </summary>
    private static async Task GeminiAsync(HttpContext http, string model, bool stream, string body)
    {
        var request = JsonNode.Parse(body)!.AsObject();
        if (request.Select(p => p.Key).FirstOrDefault(k => k is not ("contents" or "systemInstruction" or "generationConfig" or "tools" or "toolConfig" or "safetySettings" or "labels")) is { } unknown)
        {
            await GoogleError(http, 400, "INVALID_ARGUMENT", $"Invalid JSON payload received. Unknown name \"{unknown}\": Cannot find field.");
            return;
        }
        if (request["contents"] is not JsonArray { Count: > 0 } contents)
        {
            await GoogleError(http, 400, "INVALID_ARGUMENT", "Unable to submit request because it must include at least one parts field.");
            return;
        }
        foreach (var content in contents)
        {
            if (content!["role"]?.GetValue<string>() is not ("user" or "model"))
            {
                await GoogleError(http, 400, "INVALID_ARGUMENT", "Please use a valid role: user, model.");
                return;
            }
            if (content["parts"] is not JsonArray { Count: > 0 } parts || parts.Any(p => p is not JsonObject o || !o.Any(f => f.Key is "text" or "inlineData" or "functionCall" or "functionResponse" or "thought" or "thoughtSignature")))
            {
                await GoogleError(http, 400, "INVALID_ARGUMENT", "Unable to submit request because it has an empty or unknown parts field.");
                return;
            }
        }
        var answered = contents[^1]!["parts"]!.AsArray().Any(p => p!["functionResponse"] is not null);
        var useTool = request["tools"] is JsonArray { Count: > 0 } && !answered;
        JsonObject part = useTool
            ? new JsonObject { ["functionCall"] = new JsonObject { ["name"] = "get_weather", ["args"] = new JsonObject { ["location"] = "Boston" } } }
            : new JsonObject { ["text"] = answered ? "It is 22 degrees in Boston." : "Sunny in Boston." };
        JsonObject Answer(JsonObject answerPart, bool last) => new()
        {
            ["candidates"] = new JsonArray(new JsonObject
            {
                ["content"] = new JsonObject { ["role"] = "model", ["parts"] = new JsonArray(answerPart) },
                ["finishReason"] = last ? "STOP" : null,
                ["index"] = 0,
            }),
            ["usageMetadata"] = last ? new JsonObject { ["promptTokenCount"] = 21, ["candidatesTokenCount"] = 9, ["totalTokenCount"] = 30 } : null,
            ["modelVersion"] = model,
        };
        if (!stream)
        {
            await http.Response.WriteAsJsonAsync(Answer(part, last: true));
            return;
        }
        var text = useTool ? "" : part["text"]!.GetValue<string>();
        var chunks = useTool ? [Answer(part, last: true)]
            : new[] { Answer(new JsonObject { ["text"] = text[..(text.Length / 2)] }, last: false), Answer(new JsonObject { ["text"] = text[(text.Length / 2)..] }, last: true) };
        if (http.Request.Query["alt"] != "sse")
        {
            await http.Response.WriteAsJsonAsync(new JsonArray([.. chunks]));
            return;
        }
        http.Response.ContentType = "text/event-stream";
        foreach (var chunk in chunks)
        {
            await http.Response.WriteAsync($"data: {chunk.ToJsonString()}\r\n\r\n");
            await http.Response.Body.FlushAsync();
        }
    }

    private static async Task AnthropicError(HttpContext http, string message)
    {
        http.Response.StatusCode = 400;
        await http.Response.WriteAsJsonAsync(new { type = "error", error = new { type = "invalid_request_error", message } });
    }

    /// <summary>Google's error shape, as its front end answers before any model does.</summary>
    private static async Task GoogleError(HttpContext http, int status, string code, string message)
    {
        http.Response.StatusCode = status;
        await http.Response.WriteAsJsonAsync(new { error = new { code = status, message, status = code } });
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
