using System.Buffers;
using System.IO.Pipelines;
using System.Text;

// A provider stand-in that costs as little as possible, so the benchmark measures the proxies, not the upstream.
//   any POST whose body contains "stream":true  -> text/event-stream: a first chunk flushed at once, then two more
//                                                  chunks each after STANDIN_SSE_GAP_MS (default 5 ms), a usage chunk
//                                                  and "data: [DONE]". A proxy that buffers or coalesces shows up
//                                                  as a time to first byte of about 2 gaps instead of about 0.
//   anything else                               -> a static OpenAI chat.completion with usage (Content-Length set).
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

app.Run(async http =>
{
    var stream = await IsStreamAsync(http.Request.BodyReader, http.RequestAborted);
    var response = http.Response;
    if (!stream)
    {
        response.ContentType = "application/json";
        response.ContentLength = completion.Length;
        await response.Body.WriteAsync(completion, http.RequestAborted);
        return;
    }
    response.ContentType = "text/event-stream";
    response.Headers.CacheControl = "no-cache";
    for (var i = 0; i < chunks.Length; i++)
    {
        if (i > 0 && gap > TimeSpan.Zero)
        {
            await Task.Delay(gap, http.RequestAborted);
        }
        await response.Body.WriteAsync(chunks[i], http.RequestAborted);
        await response.Body.FlushAsync(http.RequestAborted);
    }
    await response.Body.WriteAsync(tail, http.RequestAborted);
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
