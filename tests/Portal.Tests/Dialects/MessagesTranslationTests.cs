using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Anthropic.Models.Messages;
using Microsoft.AspNetCore.Http;
using Proxy.Core;
using Proxy.Core.Dialects.Messages;

namespace Portal.Tests.Dialects;

/// <summary>
/// Anthropic's Messages API served by an OpenAI-shaped provider: the Messages request as the chat completions request
/// the provider gets, and the provider's chat answer (SSE, JSON, error) as the Messages answer the client gets, checked
/// against the official Anthropic SDK's types.
/// </summary>
public sealed class MessagesTranslationTests
{
    /// <summary>What Claude Code sends: a system array with cache_control, thinking, context_management, metadata, tools.</summary>
    private const string ClaudeCodeBody = """
        {
          "model": "claude-sonnet-4-5",
          "max_tokens": 32000,
          "temperature": 1,
          "stream": true,
          "system": [
            {"type": "text", "text": "You are Claude Code, Anthropic's official CLI for Claude.", "cache_control": {"type": "ephemeral"}},
            {"type": "text", "text": "You are an interactive CLI tool.", "cache_control": {"type": "ephemeral"}}
          ],
          "messages": [
            {"role": "user", "content": [
              {"type": "text", "text": "<system-reminder>Be brief.</system-reminder>"},
              {"type": "text", "text": "List the files", "cache_control": {"type": "ephemeral"}}
            ]}
          ],
          "tools": [
            {"name": "Bash", "description": "Runs a command", "input_schema": {"type": "object", "properties": {"command": {"type": "string"}}, "required": ["command"]}, "cache_control": {"type": "ephemeral"}},
            {"type": "custom", "name": "Read", "input_schema": {"type": "object", "properties": {"file_path": {"type": "string"}}}}
          ],
          "tool_choice": {"type": "auto"},
          "metadata": {"user_id": "user_abc_account__session_123"},
          "thinking": {"type": "enabled", "budget_tokens": 31999},
          "context_management": {"edits": [{"type": "clear_thinking_20251015", "keep": "all"}]}
        }
        """;

    [Fact]
    public void ClaudeCodeRequest_TranslatesWithoutRefusal_CachingAndThinkingDropped()
    {
        var (chat, stream) = Chat(ClaudeCodeBody);

        Assert.True(stream);
        Assert.Equal("gpt-4o", (string?)chat["model"]);
        Assert.Equal(32000, (int)chat["max_tokens"]!);
        Assert.Null(chat["max_completion_tokens"]);
        Assert.Equal(1, (double)chat["temperature"]!);
        Assert.True((bool)chat["stream_options"]!["include_usage"]!);
        Assert.Equal("user_abc_account__session_123", (string?)chat["user"]);
        Assert.Equal("auto", (string?)chat["tool_choice"]);
        var messages = chat["messages"]!.AsArray();
        Assert.Equal(2, messages.Count);
        Assert.Equal("system", (string?)messages[0]!["role"]);
        Assert.Equal("You are Claude Code, Anthropic's official CLI for Claude.\nYou are an interactive CLI tool.", (string?)messages[0]!["content"]);
        Assert.Equal("user", (string?)messages[1]!["role"]);
        Assert.Equal("<system-reminder>Be brief.</system-reminder>\nList the files", (string?)messages[1]!["content"]);
        var bash = chat["tools"]![0]!;
        Assert.Equal("function", (string?)bash["type"]);
        Assert.Equal("Bash", (string?)bash["function"]!["name"]);
        Assert.Equal("Runs a command", (string?)bash["function"]!["description"]);
        Assert.Equal("command", (string?)bash["function"]!["parameters"]!["required"]![0]);
        Assert.Equal("Read", (string?)chat["tools"]![1]!["function"]!["name"]);
        var text = chat.ToJsonString();
        Assert.DoesNotContain("cache_control", text);
        Assert.DoesNotContain("thinking", text);
        Assert.DoesNotContain("context_management", text);
        Assert.DoesNotContain("metadata", text);
    }

    [Fact]
    public void ToolRoundTrip_ToolUseBecomesToolCalls_ToolResultsBecomeToolMessagesAheadOfTheUsersText()
    {
        var (chat, stream) = Chat("""
            {
              "model": "claude-sonnet-4-5", "max_tokens": 1024,
              "messages": [
                {"role": "user", "content": "Weather in Boston and Paris?"},
                {"role": "assistant", "content": [
                  {"type": "thinking", "thinking": "Two calls.", "signature": "sig"},
                  {"type": "redacted_thinking", "data": "abc"},
                  {"type": "text", "text": "Checking both."},
                  {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Boston"}},
                  {"type": "tool_use", "id": "toolu_2", "name": "get_weather", "input": {"city": "Paris", "units": "c"}}
                ]},
                {"role": "user", "content": [
                  {"type": "tool_result", "tool_use_id": "toolu_1", "content": "Sunny, 22C"},
                  {"type": "tool_result", "tool_use_id": "toolu_2", "is_error": true, "content": [{"type": "text", "text": "Paris:"}, {"type": "text", "text": "service down"}]},
                  {"type": "text", "text": "Summarise."}
                ]}
              ]
            }
            """);

        Assert.False(stream);
        Assert.Null(chat["stream"]);
        Assert.Null(chat["stream_options"]);
        var messages = chat["messages"]!.AsArray();
        Assert.Equal(["user", "assistant", "tool", "tool", "user"], messages.Select(m => (string?)m!["role"]));
        var assistant = messages[1]!;
        Assert.Equal("Checking both.", (string?)assistant["content"]);
        var calls = assistant["tool_calls"]!.AsArray();
        Assert.Equal(2, calls.Count);
        Assert.Equal("toolu_1", (string?)calls[0]!["id"]);
        Assert.Equal("function", (string?)calls[0]!["type"]);
        Assert.Equal("get_weather", (string?)calls[0]!["function"]!["name"]);
        Assert.Equal("Paris", (string?)JsonNode.Parse((string)calls[1]!["function"]!["arguments"]!)!["city"]);
        Assert.Equal("toolu_1", (string?)messages[2]!["tool_call_id"]);
        Assert.Equal("Sunny, 22C", (string?)messages[2]!["content"]);
        Assert.Equal("toolu_2", (string?)messages[3]!["tool_call_id"]);
        Assert.Equal("Paris:\nservice down", (string?)messages[3]!["content"]);
        Assert.Equal("Summarise.", (string?)messages[4]!["content"]);
    }

    [Fact]
    public void AssistantTurn_OfToolUseOnly_HasNullContent_AndOfThinkingOnly_IsLeftOut()
    {
        var (chat, _) = Chat("""
            {"model": "m", "max_tokens": 10, "messages": [
              {"role": "user", "content": "a"},
              {"role": "assistant", "content": [{"type": "thinking", "thinking": "hm", "signature": "s"}]},
              {"role": "user", "content": "b"},
              {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_9", "name": "ls", "input": {}}]},
              {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_9"}]}
            ]}
            """);

        var messages = chat["messages"]!.AsArray();
        Assert.Equal(["user", "user", "assistant", "tool"], messages.Select(m => (string?)m!["role"]));
        Assert.Equal(JsonValueKind.Null, messages[2]!["content"]?.GetValueKind() ?? JsonValueKind.Null);
        Assert.True(messages[2]!.AsObject().ContainsKey("content"));
        Assert.Equal("{}", (string?)messages[2]!["tool_calls"]![0]!["function"]!["arguments"]);
        Assert.Equal("", (string?)messages[3]!["content"]);
    }

    [Fact]
    public void Images_BecomeImageUrlParts_AToolsImageJoinsTheUserMessageAfterIt()
    {
        var (chat, _) = Chat("""
            {"model": "m", "max_tokens": 10, "messages": [
              {"role": "user", "content": [
                {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}},
                {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.jpg"}},
                {"type": "text", "text": "What are these?"}
              ]},
              {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_r", "name": "Read", "input": {"file_path": "a.png"}}]},
              {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "toolu_r", "content": [
                  {"type": "text", "text": "a.png"},
                  {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "AAAA"}}
                ]}
              ]}
            ]}
            """);

        var messages = chat["messages"]!.AsArray();
        var parts = messages[0]!["content"]!.AsArray();
        Assert.Equal("image_url", (string?)parts[0]!["type"]);
        Assert.Equal("data:image/png;base64,iVBORw0KGgo=", (string?)parts[0]!["image_url"]!["url"]);
        Assert.Equal("https://example.com/cat.jpg", (string?)parts[1]!["image_url"]!["url"]);
        Assert.Equal("What are these?", (string?)parts[2]!["text"]);
        Assert.Equal(["user", "assistant", "tool", "user"], messages.Select(m => (string?)m!["role"]));
        Assert.Equal("a.png", (string?)messages[2]!["content"]);
        Assert.Equal("data:image/png;base64,AAAA", (string?)messages[3]!["content"]![0]!["image_url"]!["url"]);
    }

    [Fact]
    public void SamplingFields_AndStopSequences_KeepTheirMeaning_RoutingFieldsAreNotSent()
    {
        var (chat, _) = Chat("""
            {"model": "m", "max_tokens": 64, "temperature": 0.2, "top_p": 0.9, "stop_sequences": ["\n\nHuman:", "END"],
             "system": "Be terse.", "service_tier": "auto", "num_retries": 2, "fallbacks": ["other"],
             "messages": [{"role": "user", "content": "hi"}]}
            """);

        Assert.Equal(["\n\nHuman:", "END"], chat["stop"]!.AsArray().Select(s => (string?)s));
        Assert.Equal(0.9, (double)chat["top_p"]!);
        Assert.Equal(0.2, (double)chat["temperature"]!);
        Assert.Equal("Be terse.", (string?)chat["messages"]![0]!["content"]);
        Assert.Null(chat["num_retries"]);
        Assert.Null(chat["fallbacks"]);
        Assert.Null(chat["service_tier"]);
        Assert.Null(chat["stop_sequences"]);
    }

    [Theory]
    [InlineData("""{"type": "auto"}""", "\"auto\"")]
    [InlineData("""{"type": "any"}""", "\"required\"")]
    [InlineData("""{"type": "none"}""", "\"none\"")]
    [InlineData("""{"type": "tool", "name": "Bash"}""", """{"type":"function","function":{"name":"Bash"}}""")]
    public void ToolChoice_TakesChatsForm(string choice, string expected)
    {
        var (chat, _) = Chat(WithTools($"\"tool_choice\": {choice}"));

        Assert.Equal(expected, chat["tool_choice"]!.ToJsonString());
        Assert.Null(chat["parallel_tool_calls"]);
    }

    [Fact]
    public void DisableParallelToolUse_IsParallelToolCallsFalse()
    {
        var (chat, _) = Chat(WithTools("\"tool_choice\": {\"type\": \"any\", \"disable_parallel_tool_use\": true}"));

        Assert.False((bool)chat["parallel_tool_calls"]!);
    }

    [Theory]
    [InlineData("\"top_k\": 5", "top_k")]
    [InlineData("\"container\": \"container_1\"", "container")]
    [InlineData("\"mcp_servers\": [{\"type\": \"url\", \"url\": \"https://mcp.example.com\", \"name\": \"x\"}]", "mcp_servers")]
    [InlineData("\"frequency_penalty\": 1", "frequency_penalty")]
    [InlineData("\"tools\": [{\"type\": \"web_search_20250305\", \"name\": \"web_search\"}]", "tools[0]")]
    [InlineData("\"tools\": [{\"type\": \"bash_20250124\", \"name\": \"bash\"}]", "tools[0]")]
    public void MeaningChangingFields_AreRefused_NamingFieldAndModel(string field, string param)
    {
        var error = Assert.Throws<ProxyError>(() => Chat($$"""{"model": "claude-sonnet-4-5", "max_tokens": 10, {{field}}, "messages": [{"role": "user", "content": "hi"}]}"""));

        Assert.Equal(400, error.Status);
        Assert.Equal(param, error.Param);
        Assert.StartsWith($"{param} is not supported when model claude-sonnet-4-5 is served by an OpenAI-shaped provider", error.Message);
    }

    [Fact]
    public void DocumentBlock_IsRefused_NamingItsPlace()
    {
        var error = Assert.Throws<ProxyError>(() => Chat("""
            {"model": "claude-sonnet-4-5", "max_tokens": 10, "messages": [{"role": "user", "content": [
              {"type": "text", "text": "Summarise"},
              {"type": "document", "source": {"type": "base64", "media_type": "application/pdf", "data": "JVBER"}}
            ]}]}
            """));

        Assert.Equal("messages[0].content[1]", error.Param);
        Assert.Contains("'document'", error.Message);
    }

    [Fact]
    public void NullTopK_IsNotARefusal()
    {
        var (chat, _) = Chat("""{"model": "m", "max_tokens": 10, "top_k": null, "messages": [{"role": "user", "content": "hi"}]}""");

        Assert.Null(chat["top_k"]);
    }

    /// <summary>OpenAI's stream for text then two tool calls, with the usage chunk include_usage asks for.</summary>
    private static readonly string ToolStream = Sse(
        """{"id":"chatcmpl-B9x","object":"chat.completion.chunk","created":1736000000,"model":"gpt-4o-2024-08-06","system_fingerprint":"fp_1","choices":[{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}],"usage":null}""",
        """{"id":"chatcmpl-B9x","object":"chat.completion.chunk","created":1736000000,"model":"gpt-4o-2024-08-06","choices":[{"index":0,"delta":{"content":"Héllo — 世界 🌍, "},"logprobs":null,"finish_reason":null}],"usage":null}""",
        """{"id":"chatcmpl-B9x","object":"chat.completion.chunk","created":1736000000,"model":"gpt-4o-2024-08-06","choices":[{"index":0,"delta":{"content":"I'll \"check\"\nnow \u00e9."},"logprobs":null,"finish_reason":null}],"usage":null}""",
        """{"id":"chatcmpl-B9x","object":"chat.completion.chunk","created":1736000000,"model":"gpt-4o-2024-08-06","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_A","type":"function","function":{"name":"get_weather","arguments":""}}]},"logprobs":null,"finish_reason":null}],"usage":null}""",
        """{"id":"chatcmpl-B9x","object":"chat.completion.chunk","created":1736000000,"model":"gpt-4o-2024-08-06","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"city\": \"Bos"}}]},"logprobs":null,"finish_reason":null}],"usage":null}""",
        """{"id":"chatcmpl-B9x","object":"chat.completion.chunk","created":1736000000,"model":"gpt-4o-2024-08-06","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"ton\"}"}}]},"logprobs":null,"finish_reason":null}],"usage":null}""",
        """{"id":"chatcmpl-B9x","object":"chat.completion.chunk","created":1736000000,"model":"gpt-4o-2024-08-06","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"call_B","type":"function","function":{"name":"get_weather","arguments":"{\"city\":"}}]},"logprobs":null,"finish_reason":null}],"usage":null}""",
        """{"id":"chatcmpl-B9x","object":"chat.completion.chunk","created":1736000000,"model":"gpt-4o-2024-08-06","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"function":{"arguments":" \"Zürich\"}"}}]},"logprobs":null,"finish_reason":null}],"usage":null}""",
        """{"id":"chatcmpl-B9x","object":"chat.completion.chunk","created":1736000000,"model":"gpt-4o-2024-08-06","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"tool_calls"}],"usage":null}""",
        """{"id":"chatcmpl-B9x","object":"chat.completion.chunk","created":1736000000,"model":"gpt-4o-2024-08-06","choices":[],"usage":{"prompt_tokens":82,"completion_tokens":17,"total_tokens":99,"prompt_tokens_details":{"cached_tokens":0}}}""",
        "[DONE]");

    [Fact]
    public async Task Stream_BecomesAnthropicsEvents_InOrder_WithUsageInMessageDelta()
    {
        var events = await StreamAsync(ToolStream, [ToolStream.Length]);

        Assert.Equal(
        [
            "message_start",
            "content_block_start", "content_block_delta", "content_block_delta", "content_block_stop",
            "content_block_start", "content_block_delta", "content_block_delta", "content_block_stop",
            "content_block_start", "content_block_delta", "content_block_delta", "content_block_stop",
            "message_delta", "message_stop",
        ], events.Select(e => e.Name));
        var message = events[0].Data["message"]!;
        Assert.Equal("msg_chatcmpl-B9x", (string?)message["id"]);
        Assert.Equal("gpt-4o-2024-08-06", (string?)message["model"]);
        Assert.Equal("assistant", (string?)message["role"]);
        Assert.Equal("text", (string?)events[1].Data["content_block"]!["type"]);
        Assert.Equal("Héllo — 世界 🌍, I'll \"check\"\nnow é.", Deltas(events, 0, "text"));
        var first = events[5].Data["content_block"]!;
        Assert.Equal(("tool_use", "call_A", "get_weather"), ((string?)first["type"], (string?)first["id"], (string?)first["name"]));
        Assert.Equal("""{"city": "Boston"}""", Deltas(events, 1, "partial_json"));
        Assert.Equal("call_B", (string?)events[9].Data["content_block"]!["id"]);
        Assert.Equal("""{"city": "Zürich"}""", Deltas(events, 2, "partial_json"));
        var end = events[13].Data;
        Assert.Equal("tool_use", (string?)end["delta"]!["stop_reason"]);
        Assert.Equal(82, (int)end["usage"]!["input_tokens"]!);
        Assert.Equal(17, (int)end["usage"]!["output_tokens"]!);
    }

    [Fact]
    public async Task Stream_SplitAtEveryByte_IsTheSameAsWhole()
    {
        var whole = await StreamTextAsync(ToolStream, [ToolStream.Length]);
        var bytes = Encoding.UTF8.GetByteCount(ToolStream);

        var byteByByte = await StreamTextAsync(ToolStream, [.. Enumerable.Repeat(1, bytes)]);
        // Cuts inside "界" (3 bytes) and "🌍" (4 bytes), between the two \n that end an event, inside "data:", inside an escape.
        var awkward = await StreamTextAsync(ToolStream, Pieces(
            Cut(ToolStream, "界") + 1, Cut(ToolStream, "🌍") + 2, Cut(ToolStream, "\n\ndata") + 1, Cut(ToolStream, "\n\ndata") + 5, Cut(ToolStream, "\\\"Zü") + 1));

        Assert.Equal(whole, byteByByte);
        Assert.Equal(whole, awkward);
    }

    [Fact]
    public async Task Stream_ReadsAsTheAnthropicSdkReadsIt()
    {
        var events = await StreamAsync(ToolStream, [ToolStream.Length]);

        var read = events.Select(e => Sdk(JsonSerializer.Deserialize<RawMessageStreamEvent>(e.Data.ToJsonString())!)).ToList();

        Assert.Equal(
        [
            "start msg_chatcmpl-B9x gpt-4o-2024-08-06",
            "text block 0", "text 0 Héllo — 世界 🌍, ", "text 0 I'll \"check\"\nnow é.", "stop 0",
            "tool_use block 1 call_A get_weather", "json 1 {\"city\": \"Bos", "json 1 ton\"}", "stop 1",
            "tool_use block 2 call_B get_weather", "json 2 {\"city\":", "json 2  \"Zürich\"}", "stop 2",
            "delta tool_use 82 17", "message_stop",
        ], read);
    }

    [Fact]
    public async Task Stream_EndingAtDoneWithoutUsage_StillEndsTheMessage()
    {
        var sse = Sse(
            """{"id":"c1","model":"llama","choices":[{"index":0,"delta":{"role":"assistant","content":"Hi"},"finish_reason":null}]}""",
            """{"id":"c1","model":"llama","choices":[{"index":0,"delta":{},"finish_reason":"length"}]}""",
            "[DONE]");

        var events = await StreamAsync(sse, [sse.Length]);

        Assert.Equal(["message_start", "content_block_start", "content_block_delta", "content_block_stop", "message_delta", "message_stop"], events.Select(e => e.Name));
        Assert.Equal("max_tokens", (string?)events[4].Data["delta"]!["stop_reason"]);
        Assert.Equal(0, (int)events[4].Data["usage"]!["output_tokens"]!);
    }

    [Fact]
    public async Task Stream_ThatSimplyStops_IsEndedOnCompletion()
    {
        var sse = Sse("""{"id":"c2","model":"m","choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":"stop"}],"usage":null}""");

        var events = await StreamAsync(sse, [sse.Length]);

        Assert.Equal(["message_start", "content_block_start", "content_block_delta", "content_block_stop", "message_delta", "message_stop"], events.Select(e => e.Name));
        Assert.Equal("end_turn", (string?)events[4].Data["delta"]!["stop_reason"]);
    }

    [Fact]
    public async Task Stream_WithUsageOnTheFinishChunk_EndsThere_Once()
    {
        var sse = Sse(
            """{"id":"c3","model":"m","choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]}""",
            """{"id":"c3","model":"m","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":1,"total_tokens":6}}""",
            "[DONE]");

        var events = await StreamAsync(sse, [sse.Length]);

        Assert.Single(events, e => e.Name == "message_delta");
        Assert.Single(events, e => e.Name == "message_stop");
        Assert.Equal(5, (int)events.Single(e => e.Name == "message_delta").Data["usage"]!["input_tokens"]!);
    }

    [Fact]
    public async Task Stream_ErrorChunk_IsAnErrorEvent_AndNothingFollows()
    {
        var sse = Sse(
            """{"id":"c4","model":"m","choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]}""",
            """{"error":{"message":"Upstream overloaded","type":"server_error","code":null}}""",
            "[DONE]");

        var events = await StreamAsync(sse, [sse.Length]);

        var error = events[^1];
        Assert.Equal("error", error.Name);
        Assert.Equal("error", (string?)error.Data["type"]);
        Assert.Equal("api_error", (string?)error.Data["error"]!["type"]);
        Assert.Equal("Upstream overloaded", (string?)error.Data["error"]!["message"]);
        Assert.DoesNotContain(events, e => e.Name == "message_stop");
    }

    [Fact]
    public async Task Json_WithToolCalls_IsAnthropicsMessage()
    {
        var json = """
            {"id":"chatcmpl-C1","object":"chat.completion","created":1736000000,"model":"gpt-4o-2024-08-06",
             "choices":[{"index":0,"message":{"role":"assistant","content":"Let me look.","refusal":null,"tool_calls":[
               {"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Boston\"}"}},
               {"id":"call_2","type":"function","function":{"name":"get_time","arguments":"{\"tz\": oops"}}]},
               "logprobs":null,"finish_reason":"tool_calls"}],
             "usage":{"prompt_tokens":40,"completion_tokens":12,"total_tokens":52}}
            """;

        var (http, body) = await AnswerAsync(200, "application/json", json, [json.Length / 3, json.Length]);

        Assert.Equal("application/json", http.Response.ContentType);
        var message = JsonNode.Parse(body)!;
        Assert.Equal("msg_chatcmpl-C1", (string?)message["id"]);
        Assert.Equal("message", (string?)message["type"]);
        Assert.Equal("tool_use", (string?)message["stop_reason"]);
        Assert.Equal(JsonValueKind.Null, message["stop_sequence"]?.GetValueKind() ?? JsonValueKind.Null);
        Assert.Equal(40, (int)message["usage"]!["input_tokens"]!);
        Assert.Equal(12, (int)message["usage"]!["output_tokens"]!);
        var content = message["content"]!.AsArray();
        Assert.Equal(["text", "tool_use", "tool_use"], content.Select(b => (string?)b!["type"]));
        Assert.Equal("Let me look.", (string?)content[0]!["text"]);
        Assert.Equal("call_1", (string?)content[1]!["id"]);
        Assert.Equal("Boston", (string?)content[1]!["input"]!["city"]);
        // Broken arguments are kept for the model to see, not dropped.
        Assert.Equal("{\"tz\": oops", (string?)content[2]!["input"]!["_raw"]);
        var parsed = JsonSerializer.Deserialize<Message>(body)!;
        Assert.Equal("msg_chatcmpl-C1", parsed.ID);
        Assert.True(parsed.Content[1].TryPickToolUse(out var tool));
        Assert.Equal(("call_1", "get_weather", "Boston"), (tool!.ID, tool.Name, tool.Input["city"].GetString()));
        Assert.Equal("tool_use", parsed.StopReason?.Raw());
        Assert.Equal(40, parsed.Usage.InputTokens);
    }

    [Fact]
    public async Task Error_InOpenAIsEnvelope_IsAnthropicsErrorShape_TypedByStatus()
    {
        var json = """{"error":{"message":"Rate limit reached for gpt-4o","type":"requests","param":null,"code":"rate_limit_exceeded"}}""";

        var (http, body) = await AnswerAsync(429, "application/json", json, [10, json.Length - 10]);

        Assert.Equal("""{"type":"error","error":{"type":"rate_limit_error","message":"Rate limit reached for gpt-4o"}}""", body);
        Assert.Equal("application/json", http.Response.ContentType);
    }

    [Fact]
    public async Task Error_NotJson_KeepsTheBodyAsMessage_WithAJsonContentType()
    {
        var html = "<html><body>502 Bad Gateway</body></html>";

        var (http, body) = await AnswerAsync(502, "text/html", html, [html.Length]);

        var error = JsonNode.Parse(body)!["error"]!;
        Assert.Equal("api_error", (string?)error["type"]);
        Assert.Equal(html, (string?)error["message"]);
        Assert.Equal("application/json", http.Response.ContentType);
    }

    [Theory]
    [InlineData(400, "invalid_request_error")]
    [InlineData(401, "authentication_error")]
    [InlineData(403, "permission_error")]
    [InlineData(404, "not_found_error")]
    [InlineData(413, "request_too_large")]
    [InlineData(429, "rate_limit_error")]
    [InlineData(500, "api_error")]
    [InlineData(503, "overloaded_error")]
    [InlineData(529, "overloaded_error")]
    public void ErrorType_FollowsAnthropicsStatuses(int status, string type)
    {
        Assert.Equal(type, MessagesError.Type(status));
    }

    [Fact]
    public void Error_FromVllmsShape_AndAnEmptyBody_StillSaySomething()
    {
        var vllm = JsonNode.Parse(MessagesError.FromOpenAI(400, """{"object":"error","message":"max_tokens is too large","type":"BadRequestError","code":400}"""u8))!;
        var empty = JsonNode.Parse(MessagesError.FromOpenAI(500, []))!;

        Assert.Equal("max_tokens is too large", (string?)vllm["error"]!["message"]);
        Assert.Equal("The provider answered 500.", (string?)empty["error"]!["message"]);
    }

    /// <summary>What a client of the official SDK reads from an event.</summary>
    private static string Sdk(RawMessageStreamEvent e) =>
        e.TryPickStart(out var start) ? $"start {start!.Message.ID} {start.Message.Model.Raw()}"
        : e.TryPickContentBlockStart(out var block) ? block!.ContentBlock.TryPickToolUse(out var tool) ? $"tool_use block {block.Index} {tool!.ID} {tool.Name}"
            : block.ContentBlock.TryPickText(out _) ? $"text block {block.Index}" : "other block"
        : e.TryPickContentBlockDelta(out var delta) ? delta!.Delta.TryPickText(out var text) ? $"text {delta.Index} {text!.Text}"
            : delta.Delta.TryPickInputJson(out var json) ? $"json {delta.Index} {json!.PartialJson}" : "other delta"
        : e.TryPickContentBlockStop(out var stop) ? $"stop {stop!.Index}"
        : e.TryPickDelta(out var end) ? $"delta {end!.Delta.StopReason?.Raw()} {end.Usage.InputTokens} {end.Usage.OutputTokens}"
        : e.TryPickStop(out _) ? "message_stop" : "other";

    private static (JsonNode Chat, bool Stream) Chat(string messagesBody)
    {
        using var request = JsonDocument.Parse(messagesBody);
        var output = new ArrayBufferWriter<byte>();
        bool stream;
        using (var w = new Utf8JsonWriter(output))
        {
            stream = MessagesRequest.WriteChat(request.RootElement, "gpt-4o", w);
        }
        return (JsonNode.Parse(output.WrittenSpan)!, stream);
    }

    private static string WithTools(string choice) =>
        """{"model": "m", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}], "tools": [{"name": "Bash", "input_schema": {"type": "object"}}], """
        + choice + "}";

    private static string Sse(params string[] chunks) => string.Concat(chunks.Select(c => $"data: {c}\n\n"));

    /// <summary>Piece lengths that cut the answer at these byte offsets.</summary>
    private static int[] Pieces(params int[] cuts) => [.. cuts.Order().Prepend(0).Zip(cuts.Order(), (from, to) => to - from)];

    /// <summary>The byte offset where <paramref name="text"/> starts in <paramref name="sse"/>.</summary>
    private static int Cut(string sse, string text) => Encoding.UTF8.GetByteCount(sse[..sse.IndexOf(text, StringComparison.Ordinal)]);

    /// <summary>The provider's answer written to the translator in pieces of these byte lengths (the last takes the rest).</summary>
    private static async Task<(HttpContext Http, string Body)> AnswerAsync(int status, string contentType, string answer, int[] pieces)
    {
        var http = new DefaultHttpContext();
        http.Response.StatusCode = status;
        http.Response.ContentType = contentType;
        var client = new MemoryStream();
        using (var translator = new MessagesAnswer(client, http.Response))
        {
            var bytes = Encoding.UTF8.GetBytes(answer);
            var offset = 0;
            foreach (var piece in pieces)
            {
                var length = Math.Min(piece, bytes.Length - offset);
                await translator.WriteAsync(bytes.AsMemory(offset, length));
                offset += length;
            }
            await translator.WriteAsync(bytes.AsMemory(offset));
            await translator.CompleteAsync(CancellationToken.None);
        }
        return (http, Encoding.UTF8.GetString(client.ToArray()));
    }

    private static async Task<string> StreamTextAsync(string sse, int[] pieces) => (await AnswerAsync(200, "text/event-stream", sse, pieces)).Body;

    private static async Task<List<(string Name, JsonNode Data)>> StreamAsync(string sse, int[] pieces)
    {
        var text = await StreamTextAsync(sse, pieces);
        var events = new List<(string, JsonNode)>();
        foreach (var block in text.Split("\n\n", StringSplitOptions.RemoveEmptyEntries))
        {
            var lines = block.Split('\n');
            Assert.Equal(2, lines.Length);
            Assert.StartsWith("event: ", lines[0]);
            Assert.StartsWith("data: ", lines[1]);
            var name = lines[0]["event: ".Length..];
            var data = JsonNode.Parse(lines[1]["data: ".Length..])!;
            // What Anthropic's SDKs rely on: the event's name is its data's type.
            Assert.Equal(name, (string?)data["type"]);
            events.Add((name, data));
        }
        return events;
    }

    /// <summary>The pieces of one block's text or partial JSON, joined, by the block's index.</summary>
    private static string Deltas(List<(string Name, JsonNode Data)> events, int index, string field) =>
        string.Concat(events.Where(e => e.Name == "content_block_delta" && (int)e.Data["index"]! == index).Select(e => (string?)e.Data["delta"]![field]));
}
