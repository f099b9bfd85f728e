using System.ClientModel;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using OpenAI;
using OpenAI.Chat;
using Microsoft.Extensions.DependencyInjection;
using Portal.Tests.Infrastructure;
using Proxy.Core.Access;
using Proxy.Core.Forwarding;

namespace Portal.Tests.Providers;

/// <summary>
/// A team's Gemini model on Vertex AI through the official OpenAI .NET SDK: Gemini's generateContent (the translation
/// Google AI Studio uses) at Vertex's URL with the service account's access token, which the stand-in checks.
/// </summary>
[Trait("Category", "Database")]
public sealed class VertexGeminiTests(VertexFixture fixture) : IClassFixture<VertexFixture>
{
    private GatewayFactory Gateway => fixture.Gateway;
    private VertexStandIn Vertex => fixture.Vertex;

    private OpenAIClient Sdk(string key) =>
        new(new ApiKeyCredential(key), new OpenAIClientOptions { Endpoint = new Uri(Gateway.BaseAddress, "/v1") });

    [Fact]
    public async Task OpenAISdk_Chat_GoesToGenerateContent_WithTheServiceAccountsToken()
    {
        var setup = await fixture.TeamWithModelAsync(VertexFixture.Gemini);

        var completion = (await Sdk(setup.Key).GetChatClient("vmodel").CompleteChatAsync(
            [new SystemChatMessage("You are a weather assistant."), new UserChatMessage("What's the weather like in Boston today?")])).Value;

        Assert.Equal("Sunny in Boston.", completion.Content[0].Text);
        Assert.Equal(21, completion.Usage.InputTokenCount);
        Assert.Equal(9, completion.Usage.OutputTokenCount);
        var received = Assert.Single(Vertex.ReceivedBy(setup.UpstreamId));
        Assert.Equal($"/{setup.UpstreamId}/v1/projects/{VertexFixture.Project}/locations/{VertexFixture.Location}/publishers/google/models/{VertexFixture.Gemini}:generateContent", received.Path);
        Assert.Equal(setup.Email, fixture.Google.AccountOf(received.Header("authorization")!["Bearer ".Length..]));
        Assert.Null(received.Header("x-goog-api-key"));
        var body = received.Json;
        Assert.Equal("You are a weather assistant.", body["systemInstruction"]!["parts"]![0]!["text"]!.GetValue<string>());
        Assert.Equal("user", body["contents"]![0]!["role"]!.GetValue<string>());
        var log = Assert.Single(await Spend.Spend.LogsAsync(Gateway, setup.TeamId, expected: 1));
        Assert.Equal(21, log["prompt_tokens"]!.GetValue<int>());
    }

    [Fact]
    public async Task OpenAISdk_Streaming_GoesToStreamGenerateContent_AsSse()
    {
        var setup = await fixture.TeamWithModelAsync(VertexFixture.Gemini);
        var text = new StringBuilder();

        await foreach (var update in Sdk(setup.Key).GetChatClient("vmodel").CompleteChatStreamingAsync([new UserChatMessage("weather?")]))
        {
            foreach (var part in update.ContentUpdate)
            {
                text.Append(part.Text);
            }
        }

        Assert.Equal("Sunny in Boston.", text.ToString());
        var received = Assert.Single(Vertex.ReceivedBy(setup.UpstreamId));
        Assert.EndsWith($"/models/{VertexFixture.Gemini}:streamGenerateContent", received.Path);
        Assert.Equal("?alt=sse", received.Query);
    }

    [Fact]
    public async Task Tools_RoundTrip()
    {
        var setup = await fixture.TeamWithModelAsync(VertexFixture.Gemini);
        var client = Sdk(setup.Key).GetChatClient("vmodel");
        var weather = ChatTool.CreateFunctionTool("get_weather", "The weather in a city.",
            BinaryData.FromString("""{"type": "object", "properties": {"location": {"type": "string"}}, "required": ["location"]}"""));
        var options = new ChatCompletionOptions { Tools = { weather } };
        List<ChatMessage> conversation = [new UserChatMessage("What's the weather in Boston?")];

        var first = (await client.CompleteChatAsync(conversation, options)).Value;

        Assert.Equal(ChatFinishReason.ToolCalls, first.FinishReason);
        var call = Assert.Single(first.ToolCalls);
        Assert.Equal("get_weather", call.FunctionName);
        Assert.Equal("Boston", JsonNode.Parse(call.FunctionArguments.ToString())!["location"]!.GetValue<string>());
        conversation.Add(new AssistantChatMessage(first));
        conversation.Add(new ToolChatMessage(call.Id, "22 degrees, sunny"));

        var second = (await client.CompleteChatAsync(conversation, options)).Value;

        Assert.Equal("It is 22 degrees in Boston.", second.Content[0].Text);
        var sent = Vertex.ReceivedBy(setup.UpstreamId);
        Assert.Equal("get_weather", sent[0].Json["tools"]![0]!["functionDeclarations"]![0]!["name"]!.GetValue<string>());
        var contents = sent[1].Json["contents"]!.AsArray();
        Assert.Equal("get_weather", contents[1]!["parts"]![0]!["functionCall"]!["name"]!.GetValue<string>());
        Assert.Equal("get_weather", contents[2]!["parts"]![0]!["functionResponse"]!["name"]!.GetValue<string>());
    }

    [Fact]
    public async Task AMessagesCall_ReachesGeminiThroughChatCompletions()
    {
        var setup = await fixture.TeamWithModelAsync(VertexFixture.Gemini);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/messages")
        {
            Content = JsonContent.Create(new { model = "vmodel", max_tokens = 100, messages = new[] { new { role = "user", content = "weather?" } } }),
        };
        request.Headers.Add("x-api-key", setup.Key);
        request.Headers.Add("anthropic-version", "2023-06-01");

        var answer = await (await Gateway.Client(null).SendAsync(request)).ReadJsonAsync(HttpStatusCode.OK);

        Assert.Equal("message", answer["type"]!.GetValue<string>());
        Assert.Equal("Sunny in Boston.", answer["content"]![0]!["text"]!.GetValue<string>());
        Assert.EndsWith(":generateContent", Assert.Single(Vertex.ReceivedBy(setup.UpstreamId)).Path);
    }

    [Fact]
    public async Task TestConnection_CallsGeminiWithAToken()
    {
        var setup = await fixture.TeamWithModelAsync(VertexFixture.Gemini, name: "vgemini-test");
        await using var scope = Gateway.Services.CreateAsyncScope();

        var test = await scope.ServiceProvider.GetRequiredService<ConnectionProbe>().TestAsync(Caller.MasterKey, setup.ModelId);

        Assert.True(test.Succeeded, test.Message);
        var received = Assert.Single(Vertex.ReceivedBy(setup.UpstreamId));
        Assert.EndsWith(":generateContent", received.Path);
        Assert.Equal(1, received.Json["generationConfig"]!["maxOutputTokens"]!.GetValue<int>());
    }

    [Fact]
    public async Task Embeddings_AreRefused_NamingWhatVertexGeminiAnswers()
    {
        var setup = await fixture.TeamWithModelAsync(VertexFixture.Gemini, name: "vgemini-embed");

        var response = await Gateway.Client(setup.Key).PostAsJsonAsync("/v1/embeddings", new { model = "vgemini-embed", input = "hello" });

        var message = await response.ReadErrorAsync(HttpStatusCode.BadRequest);
        Assert.Contains("chat/completions", message);
        Assert.Empty(Vertex.ReceivedBy(setup.UpstreamId));
    }
}
