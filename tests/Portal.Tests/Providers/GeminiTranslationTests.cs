using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Proxy.Core;
using Proxy.Core.Forwarding;
using Proxy.Core.Providers;
using Proxy.Core.Providers.Gemini;
using Proxy.Core.Usage;

namespace Portal.Tests.Providers;

/// <summary>
/// The Gemini translation alone: a chat completions request as the generateContent body Gemini gets, and Gemini's
/// answers (streams cut anywhere, whole answers, errors) as the OpenAI shapes the client gets.
/// </summary>
public sealed class GeminiTranslationTests
{
    /// <summary>A stream as Gemini sends it (events end with \r\n\r\n): text with multi-byte characters, two parallel calls, usage in every event.</summary>
    private static readonly string ToolStream = string.Concat(
        Event("""{"candidates":[{"content":{"parts":[{"text":"Zürich, 界 "}],"role":"model"},"index":0}],"usageMetadata":{"promptTokenCount":30,"candidatesTokenCount":2,"totalTokenCount":32},"modelVersion":"gemini-2.5-flash","responseId":"abc"}"""),
        Event("""{"candidates":[{"content":{"parts":[{"text":"🌍 \"quoted\""}],"role":"model"},"index":0}],"usageMetadata":{"promptTokenCount":30,"candidatesTokenCount":5,"totalTokenCount":35},"modelVersion":"gemini-2.5-flash","responseId":"abc"}"""),
        Event("""{"candidates":[{"content":{"parts":[{"functionCall":{"name":"get_weather","args":{"city":"Zürich"}}},{"functionCall":{"name":"get_time","args":{}}}],"role":"model"},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":30,"candidatesTokenCount":17,"thoughtsTokenCount":3,"cachedContentTokenCount":10,"totalTokenCount":50},"modelVersion":"gemini-2.5-flash","responseId":"abc"}"""));

    private static string Event(string json) => $"data: {json}\r\n\r\n";

    [Fact]
    public async Task Stream_BecomesChunks_ToolCallsWhole_FinishAndUsageLast_ThenDone()
    {
        var (events, meter) = await StreamAsync(ToolStream, [ToolStream.Length], includeUsage: true);

        Assert.Equal("[DONE]", events[^1]);
        var chunks = events[..^1].Select(e => JsonNode.Parse(e)!).ToList();
        Assert.All(chunks, c => Assert.Equal("chatcmpl-abc", (string?)c["id"]));
        Assert.Equal("assistant", (string?)chunks[0]["choices"]![0]!["delta"]!["role"]);
        Assert.Equal("Zürich, 界 🌍 \"quoted\"", string.Concat(chunks.Select(c => (string?)c["choices"]!.AsArray().FirstOrDefault()?["delta"]?["content"])));
        var calls = chunks.Where(c => c["choices"]!.AsArray().FirstOrDefault()?["delta"]?["tool_calls"] is not null).Select(c => c["choices"]![0]!["delta"]!["tool_calls"]![0]!).ToList();
        Assert.Equal([0, 1], calls.Select(c => (int)c["index"]!));
        Assert.Equal(["get_weather", "get_time"], calls.Select(c => (string?)c["function"]!["name"]));
        Assert.Equal("""{"city":"Zürich"}""", (string?)calls[0]["function"]!["arguments"]);
        Assert.All(calls, c => Assert.StartsWith("call_", (string?)c["id"]));
        Assert.Equal("tool_calls", (string?)chunks[^2]["choices"]![0]!["finish_reason"]);
        var usage = chunks[^1]["usage"]!;
        Assert.Equal(30, (int)usage["prompt_tokens"]!);
        Assert.Equal(20, (int)usage["completion_tokens"]!);
        Assert.Equal(10, (int)usage["prompt_tokens_details"]!["cached_tokens"]!);
        Assert.Equal(3, (int)usage["completion_tokens_details"]!["reasoning_tokens"]!);
        Assert.Equal((30, 20, 10), (meter.PromptTokens, meter.CompletionTokens, meter.CacheReadTokens));
    }

    [Fact]
    public async Task Stream_CutAtEveryByte_OrAnywhereAwkward_IsTheSameAsWhole()
    {
        var whole = Normalized(await StreamTextAsync(ToolStream, [ToolStream.Length]));
        var bytes = Encoding.UTF8.GetByteCount(ToolStream);

        var byteByByte = Normalized(await StreamTextAsync(ToolStream, [.. Enumerable.Repeat(1, bytes)]));
        // Inside "界" (3 bytes) and "🌍" (4 bytes), between \r and \n, between the two line ends, inside "data:", inside an escape.
        var awkward = Normalized(await StreamTextAsync(ToolStream, Pieces(
            Cut(ToolStream, "界") + 1, Cut(ToolStream, "🌍") + 2, Cut(ToolStream, "\r\n\r\ndata") + 1, Cut(ToolStream, "\r\n\r\ndata") + 3,
            Cut(ToolStream, "\r\n\r\ndata") + 6, Cut(ToolStream, "\\\"quoted") + 1)));

        Assert.Equal(whole, byteByByte);
        Assert.Equal(whole, awkward);
    }

    [Fact]
    public async Task Stream_WithoutUsageAsked_EndsWithDone_AndStillCountsGeminisUsage()
    {
        var (events, meter) = await StreamAsync(ToolStream, [ToolStream.Length], includeUsage: false);

        Assert.Equal("[DONE]", events[^1]);
        Assert.DoesNotContain(events[..^1], e => JsonNode.Parse(e)!["usage"] is not null);
        Assert.True(meter.HasUsage);
        Assert.Equal(30, meter.PromptTokens);
    }

    [Fact]
    public async Task Stream_WithParallelToolCallsOff_KeepsTheFirstCallOnly()
    {
        var (events, _) = await StreamAsync(ToolStream, [ToolStream.Length], includeUsage: false, GeminiAsked.OneToolCall);

        var names = events[..^1].Select(e => JsonNode.Parse(e)!["choices"]!.AsArray().FirstOrDefault()?["delta"]?["tool_calls"]?[0]?["function"]?["name"])
            .OfType<JsonNode>().Select(n => (string?)n).ToList();
        Assert.Equal(["get_weather"], names);
    }

    [Fact]
    public async Task Stream_OfTwoCandidates_IsTwoChoices()
    {
        var sse = Event("""{"candidates":[{"content":{"parts":[{"text":"one"}]},"index":0},{"content":{"parts":[{"text":"two"}]},"index":1}]}""")
            + Event("""{"candidates":[{"content":{"parts":[{"text":"!"}]},"finishReason":"STOP","index":0},{"content":{"parts":[{"text":"?"}]},"finishReason":"MAX_TOKENS","index":1}]}""");

        var (events, _) = await StreamAsync(sse, [sse.Length], includeUsage: false);

        var choices = events[..^1].Select(e => JsonNode.Parse(e)!["choices"]![0]!).ToList();
        Assert.Equal("one!", string.Concat(choices.Where(c => (int)c["index"]! == 0).Select(c => (string?)c["delta"]!["content"])));
        Assert.Equal("two?", string.Concat(choices.Where(c => (int)c["index"]! == 1).Select(c => (string?)c["delta"]!["content"])));
        Assert.Equal(["stop", "length"], choices.Select(c => (string?)c["finish_reason"]).OfType<string>());
    }

    [Fact]
    public async Task Stream_ErrorEvent_IsAnErrorChunk()
    {
        var sse = Event("""{"error":{"code":503,"message":"The model is overloaded.","status":"UNAVAILABLE"}}""");

        var (events, _) = await StreamAsync(sse, [sse.Length], includeUsage: false);

        Assert.Equal("Gemini: The model is overloaded. (UNAVAILABLE)", (string?)JsonNode.Parse(events[0])!["error"]!["message"]);
    }

    [Fact]
    public void Whole_WithTextAndACall_IsOneChoiceWithToolCalls_AndThoughtsAreLeftOut()
    {
        var answer = """
            {"candidates":[{"content":{"parts":[{"text":"thinking...","thought":true},{"text":"Let me look."},{"functionCall":{"id":"fc_1","name":"get_weather","args":{"city":"Bern"}}}],"role":"model"},"finishReason":"STOP","index":0}],
             "usageMetadata":{"promptTokenCount":12,"candidatesTokenCount":8,"totalTokenCount":20},"modelVersion":"gemini-2.5-pro","responseId":"r1"}
            """;

        var completion = Whole(answer);

        Assert.Equal("chatcmpl-r1", (string?)completion["id"]);
        Assert.Equal("gemini-2.5-pro", (string?)completion["model"]);
        var choice = completion["choices"]![0]!;
        Assert.Equal("Let me look.", (string?)choice["message"]!["content"]);
        Assert.Equal("fc_1", (string?)choice["message"]!["tool_calls"]![0]!["id"]);
        Assert.Equal("""{"city":"Bern"}""", (string?)choice["message"]!["tool_calls"]![0]!["function"]!["arguments"]);
        Assert.Equal("tool_calls", (string?)choice["finish_reason"]);
        Assert.Equal(20, (int)completion["usage"]!["total_tokens"]!);
    }

    [Theory]
    [InlineData("MAX_TOKENS", "length")]
    [InlineData("SAFETY", "content_filter")]
    [InlineData("RECITATION", "content_filter")]
    [InlineData("STOP", "stop")]
    public void Whole_FinishReasons_AreOpenAIs(string gemini, string openAI)
    {
        var completion = Whole($$"""{"candidates":[{"content":{"parts":[{"text":"x"}]},"finishReason":"{{gemini}}"}]}""");

        Assert.Equal(openAI, (string?)completion["choices"]![0]!["finish_reason"]);
    }

    [Fact]
    public void Whole_BlockedPrompt_IsAnEmptyChoiceFilteredByContent()
    {
        var completion = Whole("""{"promptFeedback":{"blockReason":"SAFETY"},"usageMetadata":{"promptTokenCount":7,"totalTokenCount":7}}""");

        Assert.Equal("content_filter", (string?)completion["choices"]![0]!["finish_reason"]);
        Assert.Equal("", (string?)completion["choices"]![0]!["message"]!["content"]);
    }

    [Fact]
    public void Errors_AreOpenAIsEnvelope_AlsoWhenGoogleSendsAList()
    {
        var single = JsonNode.Parse(GeminiError.Translate(429, """{"error":{"code":429,"message":"Quota exceeded.","status":"RESOURCE_EXHAUSTED"}}"""u8))!["error"]!;
        var list = JsonNode.Parse(GeminiError.Translate(400, """[{"error":{"code":400,"message":"Bad.","status":"INVALID_ARGUMENT"}}]"""u8))!["error"]!;
        var html = JsonNode.Parse(GeminiError.Translate(503, "<html>"u8))!["error"]!;

        Assert.Equal(("Gemini: Quota exceeded. (RESOURCE_EXHAUSTED)", "rate_limit_error", "429"), ((string?)single["message"], (string?)single["type"], (string?)single["code"]));
        Assert.Equal("Gemini: Bad. (INVALID_ARGUMENT)", (string?)list["message"]);
        Assert.Equal("Gemini: the provider answered 503", (string?)html["message"]);
        Assert.Equal(503, GeminiApi.Instance.ClientStatus(500));
        Assert.Equal(429, GeminiApi.Instance.ClientStatus(429));
    }

    [Theory]
    [InlineData("https://generativelanguage.googleapis.com", "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent")]
    [InlineData("https://generativelanguage.googleapis.com/v1beta/", "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent")]
    [InlineData("https://gateway.example/acct/google-ai-studio/v1", "https://gateway.example/acct/google-ai-studio/v1/models/gemini-2.5-flash:generateContent")]
    [InlineData("https://proxy.example/google", "https://proxy.example/google/v1beta/models/gemini-2.5-flash:generateContent")]
    public void Urls_AddTheApiVersion_UnlessTheBaseHasIt(string apiBase, string expected)
    {
        var api = GeminiApi.Instance;

        var chat = api.UpstreamUri(new Uri(apiBase), "gemini-2.5-flash", null, LlmRoute.ChatCompletions, DeploymentCredentials.None);
        Assert.Equal(expected, chat.AbsoluteUri);
        Assert.Equal(expected.Replace(":generateContent", ":streamGenerateContent?alt=sse", StringComparison.Ordinal), api.StreamUri(chat).AbsoluteUri);
        Assert.Equal(expected.Replace(":generateContent", ":batchEmbedContents", StringComparison.Ordinal),
            api.UpstreamUri(new Uri(apiBase), "gemini-2.5-flash", null, LlmRoute.Embeddings, DeploymentCredentials.None).AbsoluteUri);
    }

    [Fact]
    public void Request_ParallelResults_GoInOneUserTurn_NamedAfterTheirCalls()
    {
        var body = Request("""
            {"model":"m","messages":[
              {"role":"system","content":"Be brief."},
              {"role":"user","content":"Weather and time in Bern?"},
              {"role":"assistant","content":null,"tool_calls":[
                {"id":"call_a","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Bern\"}"}},
                {"id":"call_b","type":"function","function":{"name":"get_time","arguments":""}}]},
              {"role":"tool","tool_call_id":"call_b","content":"12:00"},
              {"role":"tool","tool_call_id":"call_a","content":"Sunny"},
              {"role":"user","content":"Thanks!"}],
             "n":2,"seed":7,"top_p":0.5,"stop":"END","tool_choice":{"type":"function","function":{"name":"get_weather"}},
             "tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object"}}}]}
            """);

        Assert.Equal("Be brief.", (string?)body["systemInstruction"]!["parts"]![0]!["text"]);
        var contents = body["contents"]!.AsArray();
        Assert.Equal(["user", "model", "user"], contents.Select(c => (string?)c!["role"]));
        Assert.Equal(["get_weather", "get_time"], contents[1]!["parts"]!.AsArray().Select(p => (string?)p!["functionCall"]!["name"]));
        Assert.Equal("{}", contents[1]!["parts"]![1]!["functionCall"]!["args"]!.ToJsonString());
        var answers = contents[2]!["parts"]!.AsArray();
        Assert.Equal(["get_time", "get_weather"], answers.Take(2).Select(p => (string?)p!["functionResponse"]!["name"]));
        Assert.Equal("Sunny", (string?)answers[1]!["functionResponse"]!["response"]!["content"]);
        Assert.Equal("Thanks!", (string?)answers[2]!["text"]);
        var config = body["generationConfig"]!;
        Assert.Equal((2, 7, 0.5, "END"), ((int)config["candidateCount"]!, (int)config["seed"]!, (double)config["topP"]!, (string?)config["stopSequences"]![0]));
        Assert.Equal(["get_weather"], body["toolConfig"]!["functionCallingConfig"]!["allowedFunctionNames"]!.AsArray().Select(n => (string?)n));
    }

    [Fact]
    public void Request_FieldsThatAskForNothing_AreNoRefusal()
    {
        var body = Request("""{"model":"m","messages":[{"role":"user","content":"hi"}],"logprobs":false,"top_logprobs":null,"user":"u1"}""");

        Assert.Equal(["contents"], body.Select(p => p.Key));
    }

    [Theory]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"hi"}],"logit_bias":{"1":2}}""", "logit_bias")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"hi"}],"logprobs":true}""", "logprobs")]
    [InlineData("""{"model":"m","messages":[{"role":"tool","tool_call_id":"nope","content":"x"}]}""", "messages[0].tool_call_id")]
    [InlineData("""{"model":"m","messages":[{"role":"system","content":"only me"}]}""", "messages")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"hi"}],"response_format":{"type":"json_schema","json_schema":{"name":"x"}}}""", "response_format.json_schema.schema")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":[{"type":"input_audio","input_audio":{}}]}]}""", "messages[0].content[0].type")]
    [InlineData("""{"model":"m","input":"x","encoding_format":"int8"}""", "encoding_format")]
    public void Request_WhatGeminiCannotTake_IsA400NamingTheField(string request, string param)
    {
        var route = request.Contains("\"input\"", StringComparison.Ordinal) ? LlmRoute.Embeddings : LlmRoute.ChatCompletions;

        var refused = Assert.Throws<ProxyError>(() => Request(request, route));

        Assert.Equal(400, refused.Status);
        Assert.Equal(param, refused.Param);
    }

    private static JsonObject Request(string chat, LlmRoute? route = null)
    {
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(16);
        var written = GeminiDialect.WriteBody(route ?? LlmRoute.ChatCompletions, Encoding.UTF8.GetBytes(chat), "models/m", ref buffer);
        try
        {
            return JsonNode.Parse(buffer.AsSpan(0, written.Length))!.AsObject();
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static JsonObject Whole(string answer)
    {
        var http = new DefaultHttpContext();
        var meter = new UsageMeter(new StreamResponseBodyFeature(new MemoryStream()), http.Response);
        return JsonNode.Parse(GeminiCompletion.Translate(Encoding.UTF8.GetBytes(answer), GeminiAsked.None, meter))!.AsObject();
    }

    /// <summary>The translated stream without its generated tool call ids and creation time, which differ from run to run.</summary>
    private static string Normalized(string sse) =>
        System.Text.RegularExpressions.Regex.Replace(sse, "\"(id\":\"call_[0-9a-f]+|created\":[0-9]+)", "\"x");

    /// <summary>Piece lengths that cut the answer at these byte offsets.</summary>
    private static int[] Pieces(params int[] cuts) => [.. cuts.Order().Prepend(0).Zip(cuts.Order(), (from, to) => to - from)];

    private static int Cut(string sse, string text) => Encoding.UTF8.GetByteCount(sse[..sse.IndexOf(text, StringComparison.Ordinal)]);

    private static async Task<(List<string> Events, UsageMeter Meter)> StreamAsync(string sse, int[] pieces, bool includeUsage, GeminiAsked asked = GeminiAsked.None)
    {
        var (text, meter) = await TranslateAsync(sse, pieces, includeUsage, asked);
        var events = text.Split("\n\n", StringSplitOptions.RemoveEmptyEntries).Select(e =>
        {
            Assert.StartsWith("data: ", e);
            return e["data: ".Length..];
        }).ToList();
        return (events, meter);
    }

    private static async Task<string> StreamTextAsync(string sse, int[] pieces) => (await TranslateAsync(sse, pieces, includeUsage: true, GeminiAsked.None)).Text;

    /// <summary>Gemini's answer written to the translator in pieces of these byte lengths (the last takes the rest).</summary>
    private static async Task<(string Text, UsageMeter Meter)> TranslateAsync(string sse, int[] pieces, bool includeUsage, GeminiAsked asked)
    {
        var http = new DefaultHttpContext();
        http.Response.StatusCode = 200;
        http.Response.ContentType = "text/event-stream";
        var client = new MemoryStream();
        var meter = new UsageMeter(new StreamResponseBodyFeature(new MemoryStream()), http.Response);
        using (var translator = new GeminiAnswer(client, http.Response, includeUsage, asked, meter))
        {
            var bytes = Encoding.UTF8.GetBytes(sse);
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
        return (Encoding.UTF8.GetString(client.ToArray()), meter);
    }
}
