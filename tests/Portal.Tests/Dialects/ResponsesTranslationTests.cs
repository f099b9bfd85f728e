using System.ClientModel;
using System.ClientModel.Primitives;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using OpenAI;
using OpenAI.Responses;
using Portal.Tests.Infrastructure;
using Proxy.Core;
using Proxy.Core.Dialects.Responses;

// The SDK marks its Responses client as for evaluation; this is what a Responses client parses.
#pragma warning disable OPENAI001

namespace Portal.Tests.Dialects;

/// <summary>
/// The Responses API over a chat-only deployment: the request Codex CLI really sends (captured from codex 0.171.0)
/// as a chat completions request, and chat answers, streamed however they are split, as Responses events.
/// </summary>
public sealed class ResponsesTranslationTests
{
    /// <summary>The chat fields every provider translation takes (Anthropic's is the narrowest).</summary>
    private static readonly HashSet<string> ChatFields =
    [
        "model", "messages", "max_tokens", "max_completion_tokens", "temperature", "top_p", "top_k", "stop", "stream", "stream_options",
        "tools", "tool_choice", "parallel_tool_calls", "user", "n",
    ];

    private static JsonNode Chat(string request, out bool streamed)
    {
        using var document = JsonDocument.Parse(request);
        using var output = new MemoryStream();
        using (var w = new Utf8JsonWriter(output))
        {
            streamed = ResponsesRequest.WriteChat(document.RootElement, "claude-sonnet-4-5", w);
        }
        return JsonNode.Parse(output.ToArray())!;
    }

    private static ProxyError Refused(string request) => Assert.Throws<ProxyError>(() => Chat(request, out _));

    [Fact]
    public void CodexRequest_BecomesAChatRequest_WithItsSystemText_FunctionTools_AndToolRoundTrip()
    {
        var codex = File.ReadAllText(Path.Combine(GatewayProcess.RepositoryRoot, "tests", "Portal.Tests", "Dialects", "codex-request.json"));

        var chat = Chat(codex, out var streamed);

        Assert.True(streamed);
        Assert.All(chat.AsObject(), p => Assert.Contains(p.Key, ChatFields));
        Assert.Equal("claude-sonnet-4-5", chat["model"]!.GetValue<string>());
        Assert.True(chat["stream_options"]!["include_usage"]!.GetValue<bool>());
        var messages = chat["messages"]!.AsArray();
        Assert.Equal(["system", "system", "user", "user", "assistant", "tool"], messages.Select(m => m!["role"]!.GetValue<string>()));
        Assert.StartsWith("You are a coding agent running in the Codex CLI", messages[0]!["content"]!.GetValue<string>());
        Assert.Equal("run echo hi-from-tool", messages[3]!["content"]!.GetValue<string>());
        var assistant = messages[4]!;
        Assert.Equal("I'll run it.", assistant["content"]!.GetValue<string>());
        var call = Assert.Single(assistant["tool_calls"]!.AsArray())!;
        Assert.Equal("call_A", call["id"]!.GetValue<string>());
        Assert.Equal("exec_command", call["function"]!["name"]!.GetValue<string>());
        Assert.Equal("{\"cmd\":\"echo hi-from-tool\"}", call["function"]!["arguments"]!.GetValue<string>());
        Assert.Equal("call_A", messages[5]!["tool_call_id"]!.GetValue<string>());
        Assert.Contains("hi-from-tool", messages[5]!["content"]!.GetValue<string>());
        var tools = chat["tools"]!.AsArray();
        Assert.All(tools, t => Assert.Equal("function", t!["type"]!.GetValue<string>()));
        Assert.All(tools, t => Assert.Null(t!["function"]!["strict"]));
        // web_search and the multi_agent_v1 namespace are left out.
        Assert.Equal(["exec_command", "write_stdin", "request_user_input", "view_image", "get_goal", "create_goal", "update_goal"],
            tools.Select(t => t!["function"]!["name"]!.GetValue<string>()));
        Assert.Equal("object", tools[0]!["function"]!["parameters"]!["type"]!.GetValue<string>());
        Assert.Equal("auto", chat["tool_choice"]!.GetValue<string>());
        Assert.True(chat["parallel_tool_calls"]!.GetValue<bool>());
    }

    [Fact]
    public void FunctionCalls_InARow_AreOneAssistantMessage_AndTheirOutputsToolMessages()
    {
        var chat = Chat("""
            {"model":"m","instructions":"Be brief.","max_output_tokens":300,"user":"u1","input":[
              {"role":"user","content":"weather in Paris and Rome?"},
              {"type":"reasoning","id":"rs_1","summary":[],"encrypted_content":"gAAA"},
              {"type":"function_call","call_id":"c1","name":"weather","arguments":"{\"city\":\"Paris\"}"},
              {"type":"function_call","call_id":"c2","name":"weather","arguments":"{\"city\":\"Rome\"}"},
              {"type":"function_call_output","call_id":"c1","output":"sunny"},
              {"type":"function_call_output","call_id":"c2","output":[{"type":"input_text","text":"rain"}]},
              {"type":"message","role":"developer","content":[{"type":"input_text","text":"Answer in French."}]},
              {"type":"message","role":"user","content":[{"type":"input_text","text":"and this?"},{"type":"input_image","image_url":"data:image/png;base64,AAAA"}]}
            ],"tools":[{"type":"function","name":"weather","parameters":{"type":"object"},"strict":true}],"tool_choice":{"type":"function","name":"weather"}}
            """, out var streamed);

        Assert.False(streamed);
        Assert.Null(chat["stream"]);
        Assert.Equal(300, chat["max_tokens"]!.GetValue<int>());
        Assert.Equal("u1", chat["user"]!.GetValue<string>());
        var messages = chat["messages"]!.AsArray();
        Assert.Equal(["system", "user", "assistant", "tool", "tool", "system", "user"], messages.Select(m => m!["role"]!.GetValue<string>()));
        Assert.Equal("Be brief.", messages[0]!["content"]!.GetValue<string>());
        Assert.Null(messages[2]!["content"]);
        Assert.Equal(["c1", "c2"], messages[2]!["tool_calls"]!.AsArray().Select(c => c!["id"]!.GetValue<string>()));
        Assert.Equal("rain", messages[4]!["content"]!.GetValue<string>());
        Assert.Equal("data:image/png;base64,AAAA", messages[6]!["content"]![1]!["image_url"]!["url"]!.GetValue<string>());
        Assert.Equal("weather", chat["tool_choice"]!["function"]!["name"]!.GetValue<string>());
    }

    [Fact]
    public void PreviousResponseId_IsRefused_NothingIsStored()
    {
        var error = Refused("""{"model":"m","input":"hi","previous_response_id":"resp_1"}""");

        Assert.Equal(400, error.Status);
        Assert.Equal("previous_response_id", error.Param);
        Assert.Contains("send the whole conversation", error.Message);
    }

    [Fact]
    public void ImagesATool_Returned_FollowTheToolMessages_AsAUserMessage()
    {
        var chat = Chat("""
            {"model":"m","input":[
              {"type":"function_call","call_id":"call_1","name":"view_image","arguments":"{\"path\":\"a.png\"}"},
              {"type":"function_call","call_id":"call_2","name":"exec_command","arguments":"{}"},
              {"type":"function_call_output","call_id":"call_1","output":[{"type":"input_image","image_url":"data:image/png;base64,AAAA"}]},
              {"type":"function_call_output","call_id":"call_2","output":"done"},
              {"role":"user","content":"what is in it?"}]}
            """, out _);

        var messages = chat["messages"]!.AsArray();
        Assert.Equal(["assistant", "tool", "tool", "user", "user"], messages.Select(m => m!["role"]!.GetValue<string>()));
        Assert.Equal("(the image follows)", messages[1]!["content"]!.GetValue<string>());
        Assert.Equal("done", messages[2]!["content"]!.GetValue<string>());
        Assert.Equal("data:image/png;base64,AAAA", messages[3]!["content"]![0]!["image_url"]!["url"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("""{"model":"m","input":"hi","background":true}""", "background")]
    [InlineData("""{"model":"m","input":"hi","text":{"format":{"type":"json_object"}}}""", "text.format")]
    [InlineData("""{"model":"m","input":"hi","tools":[{"type":"custom","name":"apply_patch"}]}""", "tools[0].type")]
    [InlineData("""{"model":"m","input":"hi","tools":[{"type":"file_search","vector_store_ids":["vs_1"]}]}""", "tools[0].type")]
    [InlineData("""{"model":"m","input":[{"type":"item_reference","id":"msg_1"}]}""", "input[0]")]
    [InlineData("""{"model":"m","input":[{"role":"user","content":[{"type":"input_image","file_id":"file_1"}]}]}""", "input[0].content[0].image_url")]
    public void WhatChatCannotCarry_IsRefused_Named(string request, string param)
    {
        var error = Refused(request);

        Assert.Equal(400, error.Status);
        Assert.Equal(param, error.Param);
    }

    /// <summary>A chat stream with text (a two-byte and a four-byte character among it), one tool call, its usage chunk and [DONE].</summary>
    private const string ChatStream =
        "data: {\"id\":\"chatcmpl-9\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"claude-sonnet-4-5\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}]}\n\n"
        + "data: {\"id\":\"chatcmpl-9\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"claude-sonnet-4-5\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Grüße \"},\"finish_reason\":null}]}\n\n"
        + "data: {\"id\":\"chatcmpl-9\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"claude-sonnet-4-5\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"aus \\\"Köln\\\" 👋\"},\"finish_reason\":null}]}\n\n"
        + "data: {\"id\":\"chatcmpl-9\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"claude-sonnet-4-5\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"call_1\",\"type\":\"function\",\"function\":{\"name\":\"exec_command\",\"arguments\":\"\"}}]},\"finish_reason\":null}]}\n\n"
        + "data: {\"id\":\"chatcmpl-9\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"claude-sonnet-4-5\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"{\\\"cmd\\\":\"}}]},\"finish_reason\":null}]}\n\n"
        + "data: {\"id\":\"chatcmpl-9\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"claude-sonnet-4-5\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"\\\"ls ü\\\"}\"}}]},\"finish_reason\":null}]}\n\n"
        + "data: {\"id\":\"chatcmpl-9\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"claude-sonnet-4-5\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"tool_calls\"}]}\n\n"
        + "data: {\"id\":\"chatcmpl-9\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"claude-sonnet-4-5\",\"choices\":[],\"usage\":{\"prompt_tokens\":1200,\"completion_tokens\":40,\"total_tokens\":1240,\"prompt_tokens_details\":{\"cached_tokens\":1000}}}\n\n"
        + "data: [DONE]\n\n";

    private static async Task<string> TranslateAsync(string body, int chunk, int status = 200, string contentType = "text/event-stream")
    {
        var http = new DefaultHttpContext();
        http.Response.StatusCode = status;
        http.Response.ContentType = contentType;
        var sink = new MemoryStream();
        using (var answer = new ResponsesAnswer(sink, http.Response))
        {
            var bytes = Encoding.UTF8.GetBytes(body);
            for (var at = 0; at < bytes.Length; at += chunk)
            {
                await answer.WriteAsync(bytes.AsMemory(at, Math.Min(chunk, bytes.Length - at)));
            }
            await answer.CompleteAsync(CancellationToken.None);
        }
        return Encoding.UTF8.GetString(sink.ToArray());
    }

    /// <summary>Each SSE event's name and JSON; the name and the JSON's type must agree.</summary>
    private static List<(string Type, JsonNode Data)> Events(string sse) =>
        [.. sse.Split("\n\n", StringSplitOptions.RemoveEmptyEntries).Select(e =>
        {
            var lines = e.Split('\n');
            var type = lines[0]["event: ".Length..];
            var data = JsonNode.Parse(lines[1]["data: ".Length..])!;
            Assert.Equal(type, data["type"]!.GetValue<string>());
            return (type, data);
        })];

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(7)]
    [InlineData(100)]
    [InlineData(100_000)]
    public async Task ChatStream_SplitAnywhere_IsTheResponsesEventSequence(int chunk)
    {
        var events = Events(await TranslateAsync(ChatStream, chunk));

        Assert.Equal(
        [
            "response.created", "response.in_progress",
            "response.output_item.added", "response.content_part.added", "response.output_text.delta", "response.output_text.delta",
            "response.output_item.added", "response.function_call_arguments.delta", "response.function_call_arguments.delta",
            "response.output_text.done", "response.content_part.done", "response.output_item.done",
            "response.function_call_arguments.done", "response.output_item.done",
            "response.completed",
        ], events.Select(e => e.Type));
        Assert.Equal(Enumerable.Range(0, events.Count), events.Select(e => e.Data["sequence_number"]!.GetValue<int>()));
        Assert.Equal("Grüße aus \"Köln\" 👋", string.Concat(events.Where(e => e.Type == "response.output_text.delta").Select(e => e.Data["delta"]!.GetValue<string>())));
        Assert.Equal("{\"cmd\":\"ls ü\"}", string.Concat(events.Where(e => e.Type == "response.function_call_arguments.delta").Select(e => e.Data["delta"]!.GetValue<string>())));
        var created = events[0].Data["response"]!;
        Assert.Equal("resp_chatcmpl-9", created["id"]!.GetValue<string>());
        Assert.Equal("in_progress", created["status"]!.GetValue<string>());
        var call = events[6].Data["item"]!;
        Assert.Equal(("function_call", "call_1", "exec_command", ""), (call["type"]!.GetValue<string>(), call["call_id"]!.GetValue<string>(), call["name"]!.GetValue<string>(), call["arguments"]!.GetValue<string>()));
        var completed = events[^1].Data["response"]!;
        Assert.Equal("completed", completed["status"]!.GetValue<string>());
        var output = completed["output"]!.AsArray();
        Assert.Equal("Grüße aus \"Köln\" 👋", output[0]!["content"]![0]!["text"]!.GetValue<string>());
        Assert.Equal("{\"cmd\":\"ls ü\"}", output[1]!["arguments"]!.GetValue<string>());
        Assert.Equal(JsonNode.Parse("""{"input_tokens":1200,"input_tokens_details":{"cached_tokens":1000},"output_tokens":40,"output_tokens_details":{"reasoning_tokens":0},"total_tokens":1240}"""),
            completed["usage"], JsonNode.DeepEquals);
        // The usage meter reads the first usage object it finds: only response.completed has one.
        Assert.All(events[..^1], e => Assert.NotEqual(JsonValueKind.Object, e.Data["response"]?["usage"]?.GetValueKind()));
    }

    [Fact]
    public async Task ChatStream_CutShortByItsTokenLimit_IsResponseIncomplete()
    {
        var stream = ChatStream[..ChatStream.IndexOf("data: {\"id\":\"chatcmpl-9\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"claude-sonnet-4-5\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\"", StringComparison.Ordinal)]
            + "data: {\"id\":\"chatcmpl-9\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"length\"}]}\n\ndata: [DONE]\n\n";

        var last = Events(await TranslateAsync(stream, 5))[^1];

        Assert.Equal("response.incomplete", last.Type);
        Assert.Equal("max_output_tokens", last.Data["response"]!["incomplete_details"]!["reason"]!.GetValue<string>());
    }

    [Fact]
    public async Task ErrorChunk_IsResponseFailed_WithItsMessage()
    {
        var stream = ChatStream[..ChatStream.IndexOf("data: {\"id\":\"chatcmpl-9\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"claude-sonnet-4-5\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"aus", StringComparison.Ordinal)]
            + "data: {\"error\":{\"message\":\"Anthropic: Overloaded (overloaded_error)\",\"type\":\"upstream_error\",\"param\":null,\"code\":\"500\"}}\n\n";

        var events = Events(await TranslateAsync(stream, 3));

        Assert.Equal("response.failed", events[^1].Type);
        Assert.Equal("Anthropic: Overloaded (overloaded_error)", events[^1].Data["response"]!["error"]!["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task ChatStream_EndedBeforeItsFinish_IsResponseFailed_NotCompleted()
    {
        var stream = ChatStream[..ChatStream.IndexOf("data: {\"id\":\"chatcmpl-9\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"claude-sonnet-4-5\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\"", StringComparison.Ordinal)];

        Assert.Equal("response.failed", Events(await TranslateAsync(stream, 64))[^1].Type);
    }

    [Fact]
    public async Task JsonChatCompletion_WithAToolCall_IsAResponse()
    {
        var completion = """
            {"id":"chatcmpl-7","object":"chat.completion","created":1700000000,"model":"claude-sonnet-4-5",
             "choices":[{"index":0,"message":{"role":"assistant","content":"Let me look.","tool_calls":[{"id":"call_9","type":"function","function":{"name":"exec_command","arguments":"{\"cmd\":\"ls\"}"}}]},"finish_reason":"tool_calls"}],
             "usage":{"prompt_tokens":21,"completion_tokens":9,"total_tokens":30}}
            """;

        var answer = JsonNode.Parse(await TranslateAsync(completion, 16, contentType: "application/json"))!;

        Assert.Equal("resp_chatcmpl-7", answer["id"]!.GetValue<string>());
        Assert.Equal("response", answer["object"]!.GetValue<string>());
        Assert.Equal("completed", answer["status"]!.GetValue<string>());
        var output = answer["output"]!.AsArray();
        Assert.Equal("Let me look.", output[0]!["content"]![0]!["text"]!.GetValue<string>());
        Assert.Equal(("function_call", "call_9", "exec_command", "{\"cmd\":\"ls\"}"),
            (output[1]!["type"]!.GetValue<string>(), output[1]!["call_id"]!.GetValue<string>(), output[1]!["name"]!.GetValue<string>(), output[1]!["arguments"]!.GetValue<string>()));
        Assert.Equal((21, 9, 30), (answer["usage"]!["input_tokens"]!.GetValue<int>(), answer["usage"]!["output_tokens"]!.GetValue<int>(), answer["usage"]!["total_tokens"]!.GetValue<int>()));
    }

    [Fact]
    public async Task ErrorAnswer_GoesThroughUnchanged()
    {
        var error = """{"error":{"message":"Rate limit reached","type":"rate_limit_error","param":null,"code":"429"}}""";

        Assert.Equal(error, await TranslateAsync(error, 10, status: 429, contentType: "application/json"));
    }

    [Fact]
    public async Task OpenAISdk_ReadsTheTranslatedStream()
    {
        var sse = await TranslateAsync(ChatStream, 13);
        var transport = new HttpClientPipelineTransport(new HttpClient(new CannedAnswer(sse)));
        var client = new OpenAIClient(new ApiKeyCredential("k"), new OpenAIClientOptions { Transport = transport }).GetResponsesClient();
        var text = new StringBuilder();
        ResponseResult? completed = null;

        await foreach (var update in await client.CreateResponseStreamingAsync(new CreateResponseOptions("claude", [ResponseItem.CreateUserMessageItem("hi")]) { StreamingEnabled = true }))
        {
            if (update is StreamingResponseOutputTextDeltaUpdate delta)
            {
                text.Append(delta.Delta);
            }
            completed ??= (update as StreamingResponseCompletedUpdate)?.Response;
        }

        Assert.Equal("Grüße aus \"Köln\" 👋", text.ToString());
        Assert.NotNull(completed);
        Assert.Equal(1200, completed.Usage.InputTokenCount);
        var call = Assert.IsType<FunctionCallResponseItem>(completed.OutputItems[1]);
        Assert.Equal(("call_1", "exec_command"), (call.CallId, call.FunctionName));
    }

    /// <summary>Answers every request with the same SSE body, as a Responses endpoint would.</summary>
    private sealed class CannedAnswer(string sse) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            Task.FromResult(new HttpResponseMessage(System.Net.HttpStatusCode.OK) { Content = new StringContent(sse, Encoding.UTF8, "text/event-stream") });
    }
}
