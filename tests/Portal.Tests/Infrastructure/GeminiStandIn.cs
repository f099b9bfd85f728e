using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace Portal.Tests.Infrastructure;

/// <summary>
/// Google AI Studio's Gemini API as the stand-in plays it, checking what Google checks: the key in <c>x-goog-api-key</c>
/// (none: 403 PERMISSION_DENIED; a wrong one: 400 "API key not valid", as Google answers; an <c>Authorization</c> header,
/// which Google reads as an OAuth token: 401 UNAUTHENTICATED), the path (<c>/v1beta/models/{model}:generateContent</c>,
/// <c>:streamGenerateContent?alt=sse</c>, <c>:batchEmbedContents</c>, <c>GET /v1beta/models</c>), and the body's shape
/// (unknown fields anywhere it knows, roles other than user/model, empty parts, a <c>functionResponse</c> without a name,
/// a function response that answers no call of the turn before). Errors are Google's <c>{"error": {"code", "message", "status"}}</c>.
/// It answers like Gemini: a function call when tools are offered and no result came back yet, JSON when asked for it,
/// one candidate per <c>candidateCount</c>, streams as whole <c>GenerateContentResponse</c> events cut mid-line across writes.
/// Scenarios: <c>gemini</c>; <c>gemini429</c> RESOURCE_EXHAUSTED; <c>gemini500</c> INTERNAL; <c>gemini400</c> INVALID_ARGUMENT;
/// <c>geminilong</c>: the prompt is longer than the model takes;
/// <c>geminicache</c>: usage with <see cref="CachedTokens"/> cached and <see cref="ThoughtTokens"/> thinking tokens;
/// <c>gemini3</c>: as Gemini 3, its function calls carry a <c>thoughtSignature</c> (<see cref="ThoughtSignature"/>), and a
/// model turn's function call sent back without it is refused.
/// </summary>
public static class GeminiStandIn
{
    /// <summary>The only key the stand-in takes.</summary>
    public const string Key = "AIzaSy-team-gemini-key-0001";

    public const int PromptTokens = 21;
    public const int CachedTokens = 15;
    public const int ThoughtTokens = 4;

    /// <summary>What the <c>gemini3</c> scenario signs its function calls with (base64, as Google's are).</summary>
    public const string ThoughtSignature = "c2lnbmVkK2J5L2dlbWluaTM=";

    /// <summary>The JSON answer when JSON is asked for.</summary>
    public const string JsonAnswer = """{"city":"Boston","sky":"sunny"}""";

    private static readonly HashSet<string> RequestFields = ["contents", "systemInstruction", "tools", "toolConfig", "generationConfig", "safetySettings", "cachedContent"];
    private static readonly HashSet<string> GenerationFields =
    [
        "temperature", "topP", "topK", "maxOutputTokens", "stopSequences", "candidateCount", "seed", "presencePenalty", "frequencyPenalty",
        "responseMimeType", "responseSchema", "responseJsonSchema", "thinkingConfig",
    ];
    private static readonly HashSet<string> PartFields = ["text", "inlineData", "functionCall", "functionResponse", "thought", "thoughtSignature"];

    public static async Task AnswerAsync(HttpContext http, string scenario, string body)
    {
        var path = http.Request.Path.Value!;
        var at = path.IndexOf("/v1beta/models", StringComparison.Ordinal);
        var rest = at < 0 ? null : path[(at + "/v1beta/models".Length)..];
        if (string.IsNullOrEmpty(http.Request.Headers["x-goog-api-key"]) && !http.Request.Headers.ContainsKey("Authorization"))
        {
            await Error(http, 403, "PERMISSION_DENIED", "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.");
            return;
        }
        if (http.Request.Headers.ContainsKey("Authorization"))
        {
            await Error(http, 401, "UNAUTHENTICATED", "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.");
            return;
        }
        if (http.Request.Headers["x-goog-api-key"] != Key)
        {
            await Error(http, 400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.");
            return;
        }
        if (rest is null)
        {
            await Error(http, 404, "NOT_FOUND", $"The requested URL {path} was not found on this server.");
            return;
        }
        if (http.Request.Method == "GET" && rest.Length == 0)
        {
            await http.Response.WriteAsJsonAsync(new
            {
                models = new[]
                {
                    new { name = "models/gemini-2.5-flash", supportedGenerationMethods = new[] { "generateContent", "countTokens" } },
                    new { name = "models/gemini-2.5-pro", supportedGenerationMethods = new[] { "generateContent", "countTokens" } },
                    new { name = "models/gemini-embedding-001", supportedGenerationMethods = new[] { "embedContent" } },
                },
            });
            return;
        }
        var colon = rest.LastIndexOf(':');
        if (http.Request.Method != "POST" || !rest.StartsWith('/') || colon < 0)
        {
            await Error(http, 404, "NOT_FOUND", $"The requested URL {path} was not found on this server.");
            return;
        }
        var model = rest[1..colon];
        var method = rest[(colon + 1)..];
        switch (scenario)
        {
            case "gemini429":
                await Error(http, 429, "RESOURCE_EXHAUSTED", "Resource has been exhausted (e.g. check quota).");
                return;
            case "gemini500":
                await Error(http, 500, "INTERNAL", "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting");
                return;
            case "gemini400":
                await Error(http, 400, "INVALID_ARGUMENT", "Please use a valid role: user, model.");
                return;
            case "geminilong":
                await Error(http, 400, "INVALID_ARGUMENT", "The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).");
                return;
        }
        JsonObject request;
        try
        {
            request = JsonNode.Parse(body)!.AsObject();
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            await Error(http, 400, "INVALID_ARGUMENT", "Invalid JSON payload received.");
            return;
        }
        if (method == "batchEmbedContents")
        {
            await EmbedAsync(http, model, request);
            return;
        }
        var stream = method == "streamGenerateContent";
        if (!(method == "generateContent" || (stream && http.Request.Query["alt"] == "sse")))
        {
            await Error(http, 404, "NOT_FOUND", $"The requested URL {path} was not found on this server (a stream is :streamGenerateContent?alt=sse).");
            return;
        }
        if (Problem(request, scenario) is { } problem)
        {
            await Error(http, 400, "INVALID_ARGUMENT", problem);
            return;
        }
        var contents = request["contents"]!.AsArray();
        var answeredTool = contents[^1]!["parts"]!.AsArray().Any(p => p!["functionResponse"] is not null);
        var useTool = request["tools"] is JsonArray { Count: > 0 } && !answeredTool
            && request["toolConfig"]?["functionCallingConfig"]?["mode"]?.GetValue<string>() != "NONE";
        var json = request["generationConfig"]?["responseMimeType"]?.GetValue<string>() == "application/json";
        var text = json ? JsonAnswer : answeredTool ? "It is 22 degrees in Boston." : "Sunny in Boston.";
        var candidates = request["generationConfig"]?["candidateCount"]?.GetValue<int>() ?? 1;
        if (stream)
        {
            await StreamAsync(http, model, text, useTool, candidates, scenario);
            return;
        }
        await http.Response.WriteAsJsonAsync(new JsonObject
        {
            ["candidates"] = new JsonArray([.. Enumerable.Range(0, candidates).Select(i => (JsonNode)Candidate(i, useTool ? null : text, useTool, "STOP", scenario))]),
            ["usageMetadata"] = Usage(scenario, 9),
            ["modelVersion"] = model,
            ["responseId"] = $"standin{Guid.NewGuid():N}",
        });
    }

    /// <summary>What Google would refuse in a generateContent body.</summary>
    private static string? Problem(JsonObject request, string scenario)
    {
        if (request.Select(p => p.Key).FirstOrDefault(k => !RequestFields.Contains(k)) is { } unknown)
        {
            return $"Invalid JSON payload received. Unknown name \"{unknown}\": Cannot find field.";
        }
        if (request["generationConfig"] is JsonObject config && config.Select(p => p.Key).FirstOrDefault(k => !GenerationFields.Contains(k)) is { } unknownConfig)
        {
            return $"Invalid JSON payload received. Unknown name \"{unknownConfig}\" at 'generation_config': Cannot find field.";
        }
        if (request["contents"] is not JsonArray { Count: > 0 } contents)
        {
            return "* GenerateContentRequest.contents: contents is not specified";
        }
        if (request["systemInstruction"] is JsonObject system && (system["parts"] is not JsonArray { Count: > 0 } || system.ContainsKey("role") && system["role"]!.GetValue<string>() != "user"))
        {
            return "* GenerateContentRequest.system_instruction.parts: must not be empty";
        }
        var calledBefore = new List<string>();
        for (var i = 0; i < contents.Count; i++)
        {
            var content = contents[i]!.AsObject();
            var role = content["role"]?.GetValue<string>();
            if (role is not ("user" or "model"))
            {
                return "Please use a valid role: user, model.";
            }
            if (content["parts"] is not JsonArray { Count: > 0 } parts)
            {
                return $"* GenerateContentRequest.contents[{i}].parts: contents.parts must not be empty.";
            }
            var called = new List<string>();
            foreach (var part in parts.Select(p => p!.AsObject()))
            {
                if (part.Select(p => p.Key).FirstOrDefault(k => !PartFields.Contains(k)) is { } unknownPart)
                {
                    return $"Invalid JSON payload received. Unknown name \"{unknownPart}\" at 'contents[{i}].parts[0]': Cannot find field.";
                }
                if (part["text"] is JsonValue t && t.GetValue<string>().Length == 0)
                {
                    return $"* GenerateContentRequest.contents[{i}].parts: Unable to submit request because it has an empty text parameter.";
                }
                if (part["inlineData"] is JsonObject inline && (inline["mimeType"] is null || inline["data"] is null))
                {
                    return $"* GenerateContentRequest.contents[{i}].parts.inline_data: mime_type and data are required";
                }
                if (part["functionCall"] is JsonObject call)
                {
                    if (role != "model" || call["name"] is null || call["args"] is not (null or JsonObject))
                    {
                        return $"* GenerateContentRequest.contents[{i}].parts.function_call: a model turn's call needs a name and object args";
                    }
                    if (scenario == "gemini3" && part["thoughtSignature"]?.GetValue<string>() != ThoughtSignature)
                    {
                        return $"Function call is missing a thought_signature in functionCall parts. This is required for tools to work correctly. Additional data, function call `default_api:{call["name"]}`, position {i + 1}.";
                    }
                    called.Add(call["name"]!.GetValue<string>());
                }
                if (part["functionResponse"] is JsonObject answer)
                {
                    if (answer["name"] is not JsonValue name || name.GetValue<string>().Length == 0)
                    {
                        return $"* GenerateContentRequest.contents[{i}].parts.function_response.name: Name cannot be empty.";
                    }
                    if (answer["response"] is not JsonObject)
                    {
                        return $"* GenerateContentRequest.contents[{i}].parts.function_response.response: must be an object";
                    }
                    if (!calledBefore.Contains(name.GetValue<string>()))
                    {
                        return "Please ensure that function response turn comes immediately after a function call turn, and that its names match the calls.";
                    }
                }
            }
            calledBefore = called;
        }
        if (request["tools"] is JsonArray tools && tools.Any(t => t!["functionDeclarations"] is not JsonArray declarations
            || declarations.Any(d => d!["name"] is null || (d["parameters"] is not null && d["parametersJsonSchema"] is not null))))
        {
            return "* GenerateContentRequest.tools[0].function_declarations: each needs a name, and parameters and parametersJsonSchema are exclusive";
        }
        return null;
    }

    private static JsonObject Candidate(int index, string? text, bool useTool, string? finishReason, string scenario = "gemini")
    {
        var parts = new JsonArray();
        if (useTool)
        {
            var call = new JsonObject { ["functionCall"] = new JsonObject { ["name"] = "get_weather", ["args"] = new JsonObject { ["location"] = "Boston" } } };
            if (scenario == "gemini3")
            {
                call["thoughtSignature"] = ThoughtSignature;
            }
            parts.Add(call);
        }
        else if (text is not null)
        {
            parts.Add(new JsonObject { ["text"] = text });
        }
        var candidate = new JsonObject { ["content"] = new JsonObject { ["parts"] = parts, ["role"] = "model" }, ["index"] = index };
        if (finishReason is not null)
        {
            candidate["finishReason"] = finishReason;
        }
        return candidate;
    }

    /// <summary>Gemini's <c>usageMetadata</c>: 21 prompt tokens; <c>geminicache</c> adds cached and thinking tokens.</summary>
    private static JsonObject Usage(string scenario, int candidatesTokens)
    {
        var usage = new JsonObject { ["promptTokenCount"] = PromptTokens, ["candidatesTokenCount"] = candidatesTokens };
        var total = PromptTokens + candidatesTokens;
        if (scenario == "geminicache")
        {
            usage["cachedContentTokenCount"] = CachedTokens;
            usage["thoughtsTokenCount"] = ThoughtTokens;
            total += ThoughtTokens;
        }
        usage["totalTokenCount"] = total;
        return usage;
    }

    private static async Task StreamAsync(HttpContext http, string model, string text, bool useTool, int candidates, string scenario)
    {
        http.Response.ContentType = "text/event-stream";
        var id = $"standin{Guid.NewGuid():N}";
        async Task Send(JsonArray parts, int candidatesTokens, string? finishReason)
        {
            var answer = new JsonObject
            {
                ["candidates"] = new JsonArray([.. Enumerable.Range(0, candidates).Select(i =>
                {
                    var c = Candidate(i, null, false, finishReason);
                    c["content"]!["parts"] = parts.DeepClone();
                    return (JsonNode)c;
                })]),
                ["usageMetadata"] = Usage(scenario, candidatesTokens),
                ["modelVersion"] = model,
                ["responseId"] = id,
            };
            // Google ends events with \r\n\r\n; written in two pieces, so a client must put an event together across reads.
            var wire = $"data: {answer.ToJsonString()}\r\n\r\n";
            await http.Response.WriteAsync(wire[..(wire.Length / 2)]);
            await http.Response.Body.FlushAsync();
            await http.Response.WriteAsync(wire[(wire.Length / 2)..]);
            await http.Response.Body.FlushAsync();
        }
        if (useTool)
        {
            await Send([new JsonObject { ["text"] = "Let me check." }], 3, null);
            await Send([new JsonObject { ["functionCall"] = new JsonObject { ["name"] = "get_weather", ["args"] = new JsonObject { ["location"] = "Boston" } } }], 12, "STOP");
            return;
        }
        var half = text.Length / 2;
        await Send([new JsonObject { ["text"] = text[..half] }], 5, null);
        await Send([new JsonObject { ["text"] = text[half..] }], 12, "STOP");
    }

    private static async Task EmbedAsync(HttpContext http, string model, JsonObject request)
    {
        if (request.Select(p => p.Key).FirstOrDefault(k => k != "requests") is { } unknown)
        {
            await Error(http, 400, "INVALID_ARGUMENT", $"Invalid JSON payload received. Unknown name \"{unknown}\": Cannot find field.");
            return;
        }
        if (request["requests"] is not JsonArray { Count: > 0 } requests)
        {
            await Error(http, 400, "INVALID_ARGUMENT", "* BatchEmbedContentsRequest.requests: requests is not specified");
            return;
        }
        var embeddings = new JsonArray();
        for (var i = 0; i < requests.Count; i++)
        {
            var one = requests[i]!.AsObject();
            if (one["model"]?.GetValue<string>() != $"models/{model}")
            {
                await Error(http, 400, "INVALID_ARGUMENT", $"* BatchEmbedContentsRequest.model: Model in request {i} ({one["model"]}) does not match the batch's models/{model}.");
                return;
            }
            if (one["content"]?["parts"]?[0]?["text"] is not JsonValue text)
            {
                await Error(http, 400, "INVALID_ARGUMENT", $"* BatchEmbedContentsRequest.requests[{i}].content: content is not specified");
                return;
            }
            var size = one["outputDimensionality"]?.GetValue<int>() ?? 3;
            // A vector of its own per text: its first value is the text's length.
            embeddings.Add(new JsonObject { ["values"] = new JsonArray([.. Enumerable.Range(0, size).Select(d => (JsonNode)(d == 0 ? text.GetValue<string>().Length : 0.25 * d))]) });
        }
        await http.Response.WriteAsJsonAsync(new JsonObject { ["embeddings"] = embeddings });
    }

    private static async Task Error(HttpContext http, int status, string googleStatus, string message)
    {
        http.Response.StatusCode = status;
        await http.Response.WriteAsJsonAsync(new { error = new { code = status, message, status = googleStatus } });
    }
}
