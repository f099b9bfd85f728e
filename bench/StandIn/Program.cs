using System.Buffers;
using System.IO.Pipelines;
using System.Text;

// A provider stand-in that costs as little as possible, so the benchmark measures the proxies, not the upstream.
//   any POST whose body contains "stream":true  -> text/event-stream: a first chunk flushed at once, then two more
//                                                  chunks each after STANDIN_SSE_GAP_MS (default 5 ms), a usage chunk
//                                                  and "data: [DONE]". A proxy that buffers or coalesces shows up
//                                                  as a time to first byte of about 2 gaps instead of about 0.
//   anything else                               -> a static OpenAI chat.completion with usage (Content-Length set).
//   a path ending in /v1/messages               -> the same answers in Anthropic's Messages shapes (a JSON message, or the
//                                                  SSE event sequence with the same gaps), for the translation's cost.
//   a path ending in /converse                  -> Bedrock's Converse answer (JSON only; the signature is not checked:
//                                                  the benchmark measures what the gateway spends signing, not AWS).
//   a path ending in :generateContent           -> the same answers in Gemini's shapes (a GenerateContentResponse, or at
//   or :streamGenerateContent                      :streamGenerateContent one per event with the same gaps, no [DONE]).
//   a path ending in :rawPredict                -> Claude on Vertex AI: the Messages answers (the token is not checked).
//   or :streamRawPredict
//   POST /token                                 -> an OAuth access token for an hour, whatever the assertion (Vertex's
//                                                  token exchange, once per benchmark: the gateway caches the token).
// Usage: StandIn --urls http://127.0.0.1:PORT
var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.ClearProviders();
var app = builder.Build();

var gap = TimeSpan.FromMilliseconds(int.TryParse(Environment.GetEnvironmentVariable("STANDIN_SSE_GAP_MS"), out var ms) ? ms : 5);
var completion = """{"id":"chatcmpl-standin","object":"chat.completion","created":1700000000,"model":"gpt-4o","system_fingerprint":"fp_standin","choices":[{"index":0,"message":{"role":"assistant","content":"It is sunny in Boston today, 22 degrees and a light breeze from the west."},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":24,"completion_tokens":17,"total_tokens":41}}"""u8.ToArray();
static byte[] Chunk(string content) => Encoding.UTF8.GetBytes(
    $"data: {{\"id\":\"chatcmpl-standin\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"gpt-4o\",\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"{content}\"}},\"finish_reason\":null}}]}}\n\n");
byte[][] chunks = [Chunk("It is sunny"), Chunk(" in Boston"), Chunk(" today.")];
var tail = """
data: {"id":"chatcmpl-standin","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o","choices":[],"usage":{"prompt_tokens":24,"completion_tokens":3,"total_tokens":27}}

data: [DONE]


"""u8.ToArray();

var message = """{"id":"msg_standin","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[{"type":"text","text":"It is sunny in Boston today, 22 degrees and a light breeze from the west."}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":24,"output_tokens":17}}"""u8.ToArray();
static byte[] Event(string type, string data) => Encoding.UTF8.GetBytes($"event: {type}\ndata: {data}\n\n");
static byte[] TextDelta(string text) => Event("content_block_delta", $"{{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{{\"type\":\"text_delta\",\"text\":\"{text}\"}}}}");
byte[][] events =
[
    [.. Event("message_start", """{"type":"message_start","message":{"id":"msg_standin","type":"message","role":"assistant","content":[],"model":"claude-sonnet-4-5","stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":24,"output_tokens":1}}}"""),
        .. Event("content_block_start", """{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"""), .. TextDelta("It is sunny")],
    TextDelta(" in Boston"),
    TextDelta(" today."),
];
var messageTail = (byte[])[.. Event("content_block_stop", """{"type":"content_block_stop","index":0}"""),
    .. Event("message_delta", """{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":3}}"""),
    .. Event("message_stop", """{"type":"message_stop"}""")];

var converse = """{"output":{"message":{"role":"assistant","content":[{"text":"It is sunny in Boston today, 22 degrees and a light breeze from the west."}]}},"stopReason":"end_turn","usage":{"inputTokens":24,"outputTokens":17,"totalTokens":41},"metrics":{"latencyMs":12}}"""u8.ToArray();
var generated = """{"candidates":[{"content":{"parts":[{"text":"It is sunny in Boston today, 22 degrees and a light breeze from the west."}],"role":"model"},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":24,"candidatesTokenCount":17,"totalTokenCount":41},"modelVersion":"gemini-2.5-flash","responseId":"standin"}"""u8.ToArray();
static byte[] Generated(string text, string end) => Encoding.UTF8.GetBytes(
    $"data: {{\"candidates\":[{{\"content\":{{\"parts\":[{{\"text\":\"{text}\"}}],\"role\":\"model\"}},{end}\"index\":0}}],\"usageMetadata\":{{\"promptTokenCount\":24,\"candidatesTokenCount\":3,\"totalTokenCount\":27}},\"modelVersion\":\"gemini-2.5-flash\",\"responseId\":\"standin\"}}\r\n\r\n");
byte[][] generatedEvents = [Generated("It is sunny", ""), Generated(" in Boston", ""), Generated(" today.", "\"finishReason\":\"STOP\",")];

var accessToken = """{"access_token":"ya29.standin-access-token","expires_in":3600,"token_type":"Bearer"}"""u8.ToArray();

app.Run(async http =>
{
    var path = http.Request.Path.Value ?? "";
    if (path == "/token")
    {
        http.Response.ContentType = "application/json";
        http.Response.ContentLength = accessToken.Length;
        await http.Response.Body.WriteAsync(accessToken, http.RequestAborted);
        return;
    }
    var gemini = path.EndsWith(":generateContent", StringComparison.Ordinal) || path.EndsWith(":streamGenerateContent", StringComparison.Ordinal);
    // Gemini's stream is asked for by its path, not its body.
    var stream = await IsStreamAsync(http.Request.BodyReader, http.RequestAborted) || path.EndsWith(":streamGenerateContent", StringComparison.Ordinal);
    var anthropic = path.EndsWith("/v1/messages", StringComparison.Ordinal) || path.EndsWith(":rawPredict", StringComparison.Ordinal) || path.EndsWith(":streamRawPredict", StringComparison.Ordinal);
    var bedrock = path.EndsWith("/converse", StringComparison.Ordinal);
    var response = http.Response;
    if (!stream || bedrock)
    {
        var answer = bedrock ? converse : anthropic ? message : gemini ? generated : completion;
        response.ContentType = "application/json";
        response.ContentLength = answer.Length;
        await response.Body.WriteAsync(answer, http.RequestAborted);
        return;
    }
    response.ContentType = "text/event-stream";
    response.Headers.CacheControl = "no-cache";
    var parts = anthropic ? events : gemini ? generatedEvents : chunks;
    for (var i = 0; i < parts.Length; i++)
    {
        if (i > 0 && gap > TimeSpan.Zero)
        {
            await Task.Delay(gap, http.RequestAborted);
        }
        await response.Body.WriteAsync(parts[i], http.RequestAborted);
        await response.Body.FlushAsync(http.RequestAborted);
    }
    if (!gemini)
    {
        await response.Body.WriteAsync(anthropic ? messageTail : tail, http.RequestAborted);
    }
});

app.Run();

// Reads the whole body (as a provider would) and looks for "stream":true without parsing the JSON.
static async Task<bool> IsStreamAsync(PipeReader reader, CancellationToken ct)
{
    while (true)
    {
        var result = await reader.ReadAsync(ct);
        if (result.IsCompleted)
        {
            var found = Contains(result.Buffer);
            reader.AdvanceTo(result.Buffer.End);
            return found;
        }
        reader.AdvanceTo(result.Buffer.Start, result.Buffer.End);
    }
}

static bool Contains(ReadOnlySequence<byte> body)
{
    var bytes = body.IsSingleSegment ? body.FirstSpan : body.ToArray();
    return bytes.IndexOf("\"stream\":true"u8) >= 0 || bytes.IndexOf("\"stream\": true"u8) >= 0;
}
