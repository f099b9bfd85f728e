using System.Text.Json;
using Proxy.Core.Dialects.Messages;

namespace Portal.Tests.Dialects;

/// <summary>
/// Anthropic's count_tokens answered locally for an OpenAI-shaped model: tiktoken's counts (o200k_base: "hello world"
/// is [24912, 2375]) plus OpenAI's cookbook overhead, 3 tokens and the role (1 token) per message and 3 for the reply.
/// </summary>
public sealed class TokenCountTests
{
    private const string Question = "What's the weather like in Boston today?"; // 8 tokens in o200k, 9 in cl100k

    private const string Tools = """
        "tools": [{"name": "get_weather", "description": "Get the current weather in a given location",
                   "input_schema": {"type":"object","properties":{"location":{"type":"string"}},"required":["location"]}}]
        """;

    private static int Count(string json, string model = "gpt-4o")
    {
        using var request = JsonDocument.Parse(json);
        return TokenCount.Count(request.RootElement, model);
    }

    [Fact]
    public void HelloWorld_IsTwoTokens_PlusOneMessageAndTheReplysPriming()
    {
        Assert.Equal(2 + 3 + 1 + 3, Count("""{"messages": [{"role": "user", "content": "hello world"}]}"""));
    }

    [Theory]
    [InlineData("openai/gpt-4o", 33)]
    [InlineData("gpt-5", 33)]
    [InlineData("gpt-4", 35)]
    [InlineData("azure/gpt-35-turbo", 35)]
    public void AConversation_CountsEachMessageWithItsOverhead_InTheModelsEncoding(string model, int expected)
    {
        // o200k: system 6 + user 8 + assistant 4 ("Sunny in Boston."), cl100k: 6 + 9 + 5; 4 per message; 3 for the reply.
        var json = $$$"""
            {"model": "x", "max_tokens": 100, "system": "You are a weather assistant.",
             "messages": [{"role": "user", "content": "{{{Question}}}"}, {"role": "assistant", "content": [{"type": "text", "text": "Sunny in Boston."}]}]}
            """;

        Assert.Equal(expected, Count(json, model));
    }

    [Fact]
    public void ASystemOfTextBlocks_CountsAsTheSameString()
    {
        var asString = Count($$$"""{"system": "You are a weather assistant.", "messages": [{"role": "user", "content": "{{{Question}}}"}]}""");
        var asBlocks = Count($$$"""{"system": [{"type": "text", "text": "You are a weather assistant.", "cache_control": {"type": "ephemeral"}}], "messages": [{"role": "user", "content": "{{{Question}}}"}]}""");

        Assert.Equal(3 + (4 + 6) + (4 + 8), asString);
        Assert.Equal(asString, asBlocks);
    }

    [Fact]
    public void ToolDefinitions_AddTheirNameDescriptionAndSchema()
    {
        var without = Count($$$"""{"messages": [{"role": "user", "content": "{{{Question}}}"}]}""");
        var with = Count($$$"""{"messages": [{"role": "user", "content": "{{{Question}}}"}], {{{Tools}}}, "tool_choice": {"type": "auto"}}""");

        // get_weather 2, the description 8, the schema's JSON 19.
        Assert.Equal(3 + 12, without);
        Assert.Equal(without + 2 + 8 + 19, with);
    }

    [Fact]
    public void AToolCallAndItsResult_CountTheCallsNameAndInput_AndTheResultAsAToolMessage()
    {
        var json = $$$"""
            {"messages": [
              {"role": "user", "content": "{{{Question}}}"},
              {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"location":"Boston"}}]},
              {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "22 degrees"}]}]}
            """;

        // user 4 + 8; assistant 4 + get_weather 2 + {"location":"Boston"} 5; tool 4 + "22 degrees" 2; the reply 3.
        Assert.Equal(12 + 11 + 6 + 3, Count(json));
    }

    [Fact]
    public void AToolResultOfBlocks_CountsItsText_AndTextBesideItIsAUserMessage()
    {
        var json = """
            {"messages": [{"role": "user", "content": [
              {"type": "tool_result", "tool_use_id": "toolu_1", "content": [{"type": "text", "text": "22 degrees"}]},
              {"type": "text", "text": "hello world"}]}]}
            """;

        Assert.Equal((4 + 2) + (4 + 2) + 3, Count(json));
    }

    [Fact]
    public void AnImage_CountsTheDocumentedEstimate()
    {
        var json = """
            {"messages": [{"role": "user", "content": [
              {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}},
              {"type": "text", "text": "hello world"}]}]}
            """;

        Assert.Equal(765, TokenCount.ImageTokens);
        Assert.Equal(4 + 765 + 2 + 3, Count(json));
    }

    [Fact]
    public void ThinkingSettingsAndBlocks_CountNothing()
    {
        var plain = Count($$$"""{"messages": [{"role": "user", "content": "{{{Question}}}"}]}""");
        var thinking = Count($$$"""{"thinking": {"type": "enabled", "budget_tokens": 2048}, "messages": [{"role": "user", "content": "{{{Question}}}"}]}""");

        Assert.Equal(plain, thinking);
    }

    [Theory]
    [InlineData("gpt-4o", "o200k")]
    [InlineData("azure/gpt-4.1-mini", "o200k")]
    [InlineData("o3", "o200k")]
    [InlineData("gpt-5.1", "o200k")]
    [InlineData("some-new-model", "o200k")]
    [InlineData("gpt-4", "cl100k")]
    [InlineData("gpt-4-turbo", "cl100k")]
    [InlineData("gpt-3.5-turbo", "cl100k")]
    [InlineData("azure/gpt-35-turbo", "cl100k")]
    public void TheEncoding_IsO200k_ExceptForTheModelsOnCl100k(string model, string encoding)
    {
        var expected = TokenCount.TokenizerFor(encoding == "o200k" ? "gpt-4o" : "gpt-4");

        Assert.Same(expected, TokenCount.TokenizerFor(model));
        Assert.NotSame(TokenCount.TokenizerFor("gpt-4o"), TokenCount.TokenizerFor("gpt-4"));
    }
}
