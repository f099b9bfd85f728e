using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Portal.Tests.Infrastructure;

/// <summary>A request as the provider received it.</summary>
public sealed record ReceivedRequest(string Method, string Path, string Query, IReadOnlyDictionary<string, string> Headers, string Body)
{
    /// <summary>The body's bytes as received (a form's file part is not text).</summary>
    public byte[] Raw { get; init; } = [];

    /// <summary>A multipart/form-data body's parts by name: each part's bytes as received.</summary>
    public IReadOnlyDictionary<string, byte[]> Form => StandInUpstream.ReadForm(Header("content-type"), Raw);

    public JsonObject Json => JsonNode.Parse(Body)!.AsObject();

    public string? Header(string name) => Headers.TryGetValue(name.ToLowerInvariant(), out var value) ? value : null;
}

/// <summary>
/// A provider stand-in on a real Kestrel port. It records every request and answers by the first path segment of
/// the api_base the test registered, which is <c>/{scenario}-{unique id}</c>:
/// <list type="bullet">
/// <item><c>ok</c>: an OpenAI chat completion (with an id of its own, or an embedding/response, by path) with usage, echoing the model.</item>
/// <item><c>sse</c>: three SSE chunks and a usage chunk; <c>gated</c>: one chunk, then waits for <see cref="Release"/>;
/// <c>nousage</c>: the same three chunks without a usage chunk.</item>
/// <item><c>error429</c>: the provider's own rate-limit error; <c>slow</c>: answers after 5 s; <c>reset</c>: one SSE chunk, then aborts the connection on <see cref="Release"/>;
/// <c>garbage</c>: 200 with a non-JSON body.</item>
/// <item><c>error400</c>, <c>error401</c>, <c>error404</c>, <c>error500</c>, <c>error503</c>: that status with an OpenAI-shaped error;
/// <c>context</c>: a 400 context_length_exceeded error; <c>lag</c>: the <c>ok</c> answer after 60 ms.</item>
/// <item><c>ok</c> also lists models at <c>GET .../models</c>, and answers <c>images/generations</c>, <c>moderations</c>,
/// <c>audio/speech</c> (binary) and <c>audio/transcriptions</c> (a form, see <see cref="ReceivedRequest.Form"/>) as OpenAI does;
/// <c>gated</c> sends half of a speech answer, then waits for <see cref="Release"/>.</item>
/// <item><c>claude</c>: Anthropic's Messages API at <c>.../v1/messages</c> (see <see cref="AnthropicStandIn"/>); <c>claude529</c>: overloaded;
/// <c>claudelong</c>: "prompt is too long"; <c>claudecode</c>: always a text answer, tools offered or not; <c>claudecache</c>:
/// usage with prompt-cache tokens.</item>
/// <item><c>bedrock</c>, <c>bedrockbroken</c>, <c>bedrockthrottle</c>, <c>bedrock500</c>, <c>bedrocksession</c>, <c>bedrockcache</c>: Bedrock's Converse API with SigV4 checked (see <see cref="BedrockStandIn"/>).</item>
/// <item><c>gemini</c>, <c>gemini429</c>, <c>gemini500</c>, <c>gemini400</c>, <c>geminilong</c>, <c>geminicache</c>, <c>gemini3</c>: Google's Gemini API (see <see cref="GeminiStandIn"/>).</item>
/// <item><c>gpt</c>, <c>gptcode</c>: OpenAI's chat completions with its checks, tools and streams (see <see cref="OpenAIChatStandIn"/>).</item>
/// </list>
/// </summary>
public sealed class StandInUpstream : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _gates = new();

    public StandInUpstream()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        _app = builder.Build();
        _app.Run(HandleAsync);
        _app.StartAsync().GetAwaiter().GetResult();
        BaseAddress = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
    }

    public string BaseAddress { get; }
    public ConcurrentQueue<ReceivedRequest> Received { get; } = new();
    public ConcurrentDictionary<string, bool> Cancelled { get; } = new();

    /// <summary>An api_base for one scenario, unique per call so a test sees only its own requests.</summary>
    public string ApiBase(string scenario, out string id)
    {
        id = $"{scenario}-{Guid.NewGuid():N}";
        return $"{BaseAddress}/{id}";
    }

    public IReadOnlyList<ReceivedRequest> ReceivedBy(string id) => Received.Where(r => r.Path.StartsWith($"/{id}/", StringComparison.Ordinal)).ToList();

    public void Release(string id) => _gates.GetOrAdd(id, _ => new(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();

    private async Task HandleAsync(HttpContext http)
    {
        using var raw = new MemoryStream();
        await http.Request.Body.CopyToAsync(raw);
        var body = Encoding.UTF8.GetString(raw.GetBuffer(), 0, (int)raw.Length);
        var headers = http.Request.Headers.ToDictionary(h => h.Key.ToLowerInvariant(), h => h.Value.ToString());
        Received.Enqueue(new ReceivedRequest(http.Request.Method, http.Request.Path, http.Request.QueryString.Value ?? "", headers, body) { Raw = raw.ToArray() });

        var id = http.Request.Path.Value!.Split('/', StringSplitOptions.RemoveEmptyEntries)[0];
        var scenario = id.Split('-')[0];
        var path = http.Request.Path.Value!;
        var isForm = http.Request.HasFormContentType;
        var model = isForm ? (ReadForm(http.Request.ContentType, raw.ToArray()).TryGetValue("model", out var modelPart) ? Encoding.UTF8.GetString(modelPart) : null)
            : body.Length > 0 && !scenario.StartsWith("claude", StringComparison.Ordinal) && !scenario.StartsWith("bedrock", StringComparison.Ordinal) && JsonNode.Parse(body) is JsonObject json ? json["model"]?.GetValue<string>() : null;
        if (scenario is "ok" or "gated" && await MediaAsync(http, scenario, id, path, model))
        {
            return;
        }
        if (scenario.StartsWith("bedrock", StringComparison.Ordinal))
        {
            await BedrockStandIn.AnswerAsync(http, scenario, raw.ToArray());
            return;
        }
        if (scenario.StartsWith("claude", StringComparison.Ordinal))
        {
            await AnthropicStandIn.AnswerAsync(http, scenario, body);
            return;
        }
        if (scenario.StartsWith("gemini", StringComparison.Ordinal))
        {
            await GeminiStandIn.AnswerAsync(http, scenario, body);
            return;
        }
        if (scenario is "gpt" or "gptcode")
        {
            await OpenAIChatStandIn.AnswerAsync(http, scenario, body);
            return;
        }
        switch (scenario)
        {
            case "ok" when http.Request.Method == "GET" && path.EndsWith("/models", StringComparison.Ordinal):
                await http.Response.WriteAsJsonAsync(new { @object = "list", data = new[] { new { id = "llama-3.3-70b", @object = "model" }, new { id = "gemma2-9b", @object = "model" } } });
                break;
            case "ok" when path.EndsWith("/embeddings", StringComparison.Ordinal):
                await http.Response.WriteAsJsonAsync(new
                {
                    @object = "list",
                    data = new[] { new { @object = "embedding", index = 0, embedding = new[] { 0.1f, 0.2f, 0.3f } } },
                    model,
                    usage = new { prompt_tokens = 5, total_tokens = 5 },
                });
                break;
            case "ok":
                await http.Response.WriteAsJsonAsync(new
                {
                    // Unique per answer, as a provider's: /spend/logs finds a call by it.
                    id = $"chatcmpl-{Guid.NewGuid():N}",
                    @object = "chat.completion",
                    created = 1700000000,
                    model,
                    choices = new[] { new { index = 0, message = new { role = "assistant", content = "Sunny in Boston." }, finish_reason = "stop" } },
                    usage = new { prompt_tokens = 11, completion_tokens = 7, total_tokens = 18 },
                });
                break;
            case "nousage":
                http.Response.ContentType = "text/event-stream";
                foreach (var part in new[] { "Sunny", " in", " Boston." })
                {
                    await WriteChunkAsync(http, model, part);
                }
                await http.Response.WriteAsync("data: [DONE]\n\n");
                break;
            case "sse":
            case "gated":
            case "reset":
                http.Response.ContentType = "text/event-stream";
                await WriteChunkAsync(http, model, "Sunny");
                if (scenario is "gated" or "reset")
                {
                    var gate = _gates.GetOrAdd(id, _ => new(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
                    try
                    {
                        await gate.WaitAsync(TimeSpan.FromSeconds(30), http.RequestAborted);
                    }
                    catch (OperationCanceledException)
                    {
                        Cancelled[id] = true;
                        return;
                    }
                    if (scenario == "reset")
                    {
                        // Released once the client has the first chunk: the break comes in the middle of a stream.
                        http.Abort();
                        return;
                    }
                }
                await WriteChunkAsync(http, model, " in");
                await WriteChunkAsync(http, model, " Boston.");
                await http.Response.WriteAsync($"data: {{\"id\":\"chatcmpl-standin\",\"object\":\"chat.completion.chunk\",\"model\":\"{model}\",\"choices\":[],\"usage\":{{\"prompt_tokens\":11,\"completion_tokens\":3,\"total_tokens\":14}}}}\n\n");
                await http.Response.WriteAsync("data: [DONE]\n\n");
                break;
            case "error429":
                http.Response.StatusCode = 429;
                await http.Response.WriteAsJsonAsync(new { error = new { message = "Rate limit reached for gpt-4o (provider side).", type = "rate_limit_error", param = (string?)null, code = "rate_limit_exceeded" } });
                break;
            case "slow":
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(5), http.RequestAborted);
                }
                catch (OperationCanceledException)
                {
                    Cancelled[id] = true;
                    return;
                }
                await http.Response.WriteAsJsonAsync(new { late = true });
                break;
            case "error400" or "error401" or "error404" or "error500" or "error503":
                http.Response.StatusCode = int.Parse(scenario[5..], System.Globalization.CultureInfo.InvariantCulture);
                await http.Response.WriteAsJsonAsync(new { error = new { message = $"The provider failed with {http.Response.StatusCode} (stand-in).", type = "server_error", param = (string?)null, code = scenario } });
                break;
            case "context":
                http.Response.StatusCode = 400;
                await http.Response.WriteAsJsonAsync(new { error = new { message = "This model's maximum context length is 8192 tokens. However, your messages resulted in 9000 tokens.", type = "invalid_request_error", param = "messages", code = "context_length_exceeded" } });
                break;
            case "lag":
                await Task.Delay(60);
                await http.Response.WriteAsJsonAsync(new
                {
                    id = "chatcmpl-standin", @object = "chat.completion", created = 1700000000, model,
                    choices = new[] { new { index = 0, message = new { role = "assistant", content = "Sunny in Boston." }, finish_reason = "stop" } },
                    usage = new { prompt_tokens = 11, completion_tokens = 7, total_tokens = 18 },
                });
                break;
            case "garbage":
                http.Response.ContentType = "application/json";
                await http.Response.WriteAsync("<html>definitely not json");
                break;
            default:
                http.Response.StatusCode = 404;
                break;
        }
    }

    /// <summary>The parts of a multipart/form-data body by name, with ASP.NET Core's reader.</summary>
    public static IReadOnlyDictionary<string, byte[]> ReadForm(string? contentType, byte[] body)
    {
        var boundary = Microsoft.Net.Http.Headers.HeaderUtilities.RemoveQuotes(Microsoft.Net.Http.Headers.MediaTypeHeaderValue.Parse(contentType).Boundary).Value!;
        var reader = new Microsoft.AspNetCore.WebUtilities.MultipartReader(boundary, new MemoryStream(body));
        var parts = new Dictionary<string, byte[]>();
        while (reader.ReadNextSectionAsync().GetAwaiter().GetResult() is { } section)
        {
            var name = Microsoft.Net.Http.Headers.HeaderUtilities.RemoveQuotes(Microsoft.Net.Http.Headers.ContentDispositionHeaderValue.Parse(section.ContentDisposition).Name).Value!;
            using var value = new MemoryStream();
            section.Body.CopyTo(value);
            parts[name] = value.ToArray();
        }
        return parts;
    }

    /// <summary>Bytes a speech answer carries, in two halves (the <c>gated</c> scenario waits between them).</summary>
    public static readonly byte[] Speech = [.. Enumerable.Range(0, 64 * 1024).Select(i => (byte)(i * 31 % 251))];

    /// <summary>
    /// The image, moderation and audio routes in the <c>ok</c> scenario (and speech in <c>gated</c>): OpenAI's answers,
    /// with usage where OpenAI gives it (images, transcriptions), none where it does not (moderations, speech).
    /// </summary>
    private async Task<bool> MediaAsync(HttpContext http, string scenario, string id, string path, string? model)
    {
        if (path.EndsWith("/images/generations", StringComparison.Ordinal))
        {
            await http.Response.WriteAsJsonAsync(new
            {
                created = 1700000000,
                data = new[] { new { b64_json = Convert.ToBase64String("not really a png"u8), revised_prompt = "A lighthouse at dusk." } },
                usage = new { total_tokens = 150, input_tokens = 50, output_tokens = 100, input_tokens_details = new { text_tokens = 50, image_tokens = 0 } },
            });
            return true;
        }
        if (path.EndsWith("/moderations", StringComparison.Ordinal))
        {
            string[] names = ["harassment", "harassment/threatening", "hate", "hate/threatening", "illicit", "illicit/violent", "self-harm",
                "self-harm/instructions", "self-harm/intent", "sexual", "sexual/minors", "violence", "violence/graphic"];
            await http.Response.WriteAsJsonAsync(new
            {
                id = "modr-standin",
                model,
                results = new[]
                {
                    new
                    {
                        flagged = false,
                        categories = names.ToDictionary(n => n, _ => false),
                        category_scores = names.ToDictionary(n => n, _ => 0.001),
                        category_applied_input_types = names.ToDictionary(n => n, _ => new[] { "text" }),
                    },
                },
            });
            return true;
        }
        if (path.EndsWith("/audio/speech", StringComparison.Ordinal))
        {
            http.Response.ContentType = "audio/mpeg";
            await http.Response.Body.WriteAsync(Speech.AsMemory(0, Speech.Length / 2));
            await http.Response.Body.FlushAsync();
            if (scenario == "gated")
            {
                try
                {
                    await _gates.GetOrAdd(id, _ => new(TaskCreationOptions.RunContinuationsAsynchronously)).Task.WaitAsync(TimeSpan.FromSeconds(30), http.RequestAborted);
                }
                catch (OperationCanceledException)
                {
                    Cancelled[id] = true;
                    return true;
                }
            }
            await http.Response.Body.WriteAsync(Speech.AsMemory(Speech.Length / 2));
            return true;
        }
        if (path.EndsWith("/audio/transcriptions", StringComparison.Ordinal))
        {
            await http.Response.WriteAsJsonAsync(new
            {
                text = "Sunny in Boston.",
                usage = new { type = "tokens", input_tokens = 14, output_tokens = 4, total_tokens = 18, input_token_details = new { text_tokens = 0, audio_tokens = 14 } },
            });
            return true;
        }
        return false;
    }

    private static async Task WriteChunkAsync(HttpContext http, string? model, string content)
    {
        await http.Response.WriteAsync(
            $"data: {{\"id\":\"chatcmpl-standin\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"{model}\",\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"{content}\"}},\"finish_reason\":null}}]}}\n\n");
        await http.Response.Body.FlushAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
