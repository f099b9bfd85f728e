using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Proxy.Core.Usage;

namespace Portal.Tests.Usage;

/// <summary>Token counts are read from the answer as it passes, however it is split into writes, without holding it back.</summary>
public sealed class UsageMeterTests
{
    private static async Task<(UsageMeter Meter, byte[] Passed)> PassAsync(string contentType, string body, int chunk)
    {
        var http = new DefaultHttpContext();
        http.Response.ContentType = contentType;
        var sink = new MemoryStream();
        var meter = new UsageMeter(new StreamResponseBodyFeature(sink), http.Response);
        var bytes = Encoding.UTF8.GetBytes(body);
        for (var at = 0; at < bytes.Length; at += chunk)
        {
            await meter.WriteAsync(bytes.AsMemory(at, Math.Min(chunk, bytes.Length - at)));
        }
        meter.Complete();
        return (meter, sink.ToArray());
    }

    [Theory]
    [InlineData(7)]
    [InlineData(1000)]
    [InlineData(100_000)]
    public async Task LongJsonAnswer_UsageAtTheEnd_IsRead_AndEveryBytePassesUnchanged(int chunk)
    {
        var body = "{\"id\":\"x\",\"choices\":[{\"message\":{\"content\":\"" + new string('a', 50_000) + " the \\\"usage\\\" word\"}}],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":30,\"total_tokens\":42}}";

        var (meter, passed) = await PassAsync("application/json", body, chunk);

        Assert.Equal(body, Encoding.UTF8.GetString(passed));
        Assert.Equal((12, 30, 42), (meter.PromptTokens, meter.CompletionTokens, meter.TotalTokens));
    }

    [Theory]
    [InlineData(3)]
    [InlineData(64)]
    public async Task EventStream_UsageChunkSplitAcrossWrites_IsRead(int chunk)
    {
        var body = "data: {\"choices\":[{\"delta\":{\"content\":\"hi\"}}]}\n\n"
            + "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":2,\"total_tokens\":7}}\n\n"
            + "data: [DONE]\n\n";

        var (meter, passed) = await PassAsync("text/event-stream", body, chunk);

        Assert.Equal(body, Encoding.UTF8.GetString(passed));
        Assert.Equal((5, 2, 7), (meter.PromptTokens, meter.CompletionTokens, meter.TotalTokens));
    }

    [Theory]
    [InlineData(5)]
    [InlineData(4096)]
    public async Task AnthropicStream_InputFromMessageStart_OutputFromMessageDelta_CacheTokensArePrompt(int chunk)
    {
        var body = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"usage\":{\"input_tokens\":21,\"cache_creation_input_tokens\":100,\"cache_read_input_tokens\":1000,\"output_tokens\":1}}}\n\n"
            + "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"hi\"}}\n\n"
            + "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":12}}\n\n"
            + "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";

        var (meter, passed) = await PassAsync("text/event-stream", body, chunk);

        Assert.Equal(body, Encoding.UTF8.GetString(passed));
        Assert.Equal((1121, 12, 1133), (meter.PromptTokens, meter.CompletionTokens, meter.TotalTokens));
        Assert.Equal((100, 1000), (meter.CacheWriteTokens, meter.CacheReadTokens));
        Assert.Equal("msg_1", meter.ResponseId);
    }

    [Fact]
    public async Task AnthropicJson_CacheTokensArePrompt()
    {
        var body = "{\"id\":\"msg_2\",\"type\":\"message\",\"content\":[],\"usage\":{\"input_tokens\":3,\"cache_creation_input_tokens\":0,\"cache_read_input_tokens\":40,\"output_tokens\":5}}";

        var (meter, _) = await PassAsync("application/json", body, 16);

        Assert.Equal((43, 5, 48), (meter.PromptTokens, meter.CompletionTokens, meter.TotalTokens));
        Assert.Equal((0, 40), (meter.CacheWriteTokens, meter.CacheReadTokens));
    }

    [Fact]
    public async Task ResponsesApi_NestedUsage_IsRead()
    {
        var body = "{\"id\":\"resp_1\",\"output\":[],\"usage\":{\"input_tokens\":9,\"output_tokens\":4,\"total_tokens\":13}}";

        var (meter, _) = await PassAsync("application/json", body, 16);

        Assert.Equal((9, 4, 13), (meter.PromptTokens, meter.CompletionTokens, meter.TotalTokens));
    }

    [Theory]
    [InlineData(7)]
    [InlineData(4096)]
    public async Task JsonAnswer_ItsIdIsRead_HoweverItIsSplit(int chunk)
    {
        var body = "{\"id\":\"chatcmpl-abc123\",\"object\":\"chat.completion\",\"choices\":[{\"message\":{\"content\":\"hi\",\"id\":\"not-this\"}}],\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":1,\"total_tokens\":2}}";

        var (meter, _) = await PassAsync("application/json", body, chunk);

        Assert.Equal("chatcmpl-abc123", meter.ResponseId);
    }

    [Fact]
    public async Task LongJsonAnswer_ItsIdIsReadFromTheFirstWrite()
    {
        var body = "{\"object\":\"chat.completion\",\"meta\":{\"id\":\"nested\"},\"id\":\"chatcmpl-long\",\"choices\":[{\"message\":{\"content\":\"" + new string('a', 50_000) + "\"}}]}";

        var (meter, _) = await PassAsync("application/json", body, 16 * 1024);

        Assert.Equal("chatcmpl-long", meter.ResponseId);
    }

    [Theory]
    [InlineData(3)]
    [InlineData(500)]
    public async Task EventStream_TheFirstChunksIdIsRead(int chunk)
    {
        var body = "data: {\"id\":\"chatcmpl-sse\",\"choices\":[{\"delta\":{\"content\":\"hi\"}}]}\n\n"
            + "data: {\"id\":\"chatcmpl-sse\",\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":2,\"total_tokens\":7}}\n\n"
            + "data: [DONE]\n\n";

        var (meter, _) = await PassAsync("text/event-stream", body, chunk);

        Assert.Equal("chatcmpl-sse", meter.ResponseId);
    }

    [Fact]
    public async Task ResponsesApiStream_TheResponsesIdIsRead()
    {
        var body = "event: response.created\ndata: {\"type\":\"response.created\",\"response\":{\"output\":[{\"id\":\"msg_1\"}],\"id\":\"resp_42\",\"status\":\"in_progress\"}}\n\n";

        var (meter, _) = await PassAsync("text/event-stream", body, 64);

        Assert.Equal("resp_42", meter.ResponseId);
    }

    [Fact]
    public async Task AnswerWithoutAnId_OrNotJson_HasNone()
    {
        Assert.Null((await PassAsync("application/json", "{\"data\":[{\"id\":\"x\"}],\"usage\":{\"prompt_tokens\":5}}", 8)).Meter.ResponseId);
        Assert.Null((await PassAsync("application/json", "<html>definitely not json", 8)).Meter.ResponseId);
    }
}
