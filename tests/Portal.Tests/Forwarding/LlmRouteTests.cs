using System.ClientModel;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using OpenAI;
using OpenAI.Chat;
using OpenAI.Embeddings;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Forwarding;

/// <summary>A team's model, called with the team's key, through the official OpenAI .NET SDK, reaches the team's endpoint with the team's key.</summary>
[Trait("Category", "Database")]
public sealed class LlmRouteTests(LlmFixture fixture) : IClassFixture<LlmFixture>
{
    private GatewayFactory Gateway => fixture.Gateway;
    private StandInUpstream Upstream => fixture.Upstream;

    private OpenAIClient Sdk(string key) =>
        new(new ApiKeyCredential(key), new OpenAIClientOptions { Endpoint = new Uri(Gateway.BaseAddress, "/v1") });

    [Fact]
    public async Task OpenAISdk_ChatWithTeamModel_ReachesTheTeamsEndpointWithTheTeamsKey()
    {
        var setup = await fixture.TeamWithModelAsync();

        var completion = await Sdk(setup.Key).GetChatClient("my-team-model").CompleteChatAsync(new UserChatMessage("What's the weather like in Boston today?"));

        Assert.Equal("Sunny in Boston.", completion.Value.Content[0].Text);
        var received = Assert.Single(Upstream.ReceivedBy(setup.UpstreamId));
        Assert.Equal($"/{setup.UpstreamId}/chat/completions", received.Path);
        Assert.Equal($"Bearer {setup.ProviderKey}", received.Header("authorization"));
        Assert.Equal("gpt-4o", received.Json["model"]!.GetValue<string>());
        Assert.Equal("What's the weather like in Boston today?", received.Json["messages"]![0]!["content"]!.GetValue<string>());
        Assert.DoesNotContain(received.Headers, h => h.Value.Contains(setup.Key));
    }

    [Fact]
    public async Task OnlyTheModelValueIsRewritten_EveryOtherByteOfTheBodyPassesAsSent()
    {
        var setup = await fixture.TeamWithModelAsync();
        const string body = "{\"temperature\": 0.2,  \"model\":\"my-team-model\", \"messages\":[{\"role\":\"user\",\"content\":\"h\\u00e9llo\"}], \"custom_field\": {\"nested\": [1,2,3]}}";

        var response = await Gateway.Client(setup.Key).PostAsync("/chat/completions", new StringContent(body, Encoding.UTF8, "application/json"));

        await response.ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal(body.Replace("\"model\":\"my-team-model\"", "\"model\":\"gpt-4o\""), Assert.Single(Upstream.ReceivedBy(setup.UpstreamId)).Body);
    }

    [Fact]
    public async Task OpenAISdk_Streaming_DeliversEveryChunk_AndUsageIsRecorded()
    {
        var setup = await fixture.TeamWithModelAsync("sse");
        var text = new StringBuilder();

        await foreach (var update in Sdk(setup.Key).GetChatClient("my-team-model").CompleteChatStreamingAsync(
            [new UserChatMessage("weather?")], new ChatCompletionOptions()))
        {
            foreach (var part in update.ContentUpdate)
            {
                text.Append(part.Text);
            }
        }

        Assert.Equal("Sunny in Boston.", text.ToString());
        Assert.True(Assert.Single(Upstream.ReceivedBy(setup.UpstreamId)).Json["stream"]!.GetValue<bool>());
        var log = await Gateway.SingleSpendLogAsync(setup.TeamId);
        Assert.Equal(11, log["prompt_tokens"]!.GetValue<int>());
        Assert.Equal(3, log["completion_tokens"]!.GetValue<int>());
        Assert.Equal(14, log["total_tokens"]!.GetValue<int>());
    }

    [Fact]
    public async Task Streaming_FirstChunkReachesTheClient_BeforeTheUpstreamHasFinished()
    {
        var setup = await fixture.TeamWithModelAsync("gated");
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = JsonContent.Create(new { model = "my-team-model", stream = true, messages = new[] { new { role = "user", content = "hi" } } }),
        };

        using var response = await Gateway.Client(setup.Key).SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        var first = await reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(10));

        // The upstream is still holding the rest back: the gateway relayed the first chunk without waiting for it.
        Assert.Contains("Sunny", first);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType!.MediaType);
        Upstream.Release(setup.UpstreamId);
        var rest = await reader.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Contains("Boston.", rest);
        Assert.Contains("[DONE]", rest);
    }

    [Fact]
    public async Task ClientDisconnect_CancelsTheUpstreamCall()
    {
        var setup = await fixture.TeamWithModelAsync("gated");
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = JsonContent.Create(new { model = "my-team-model", stream = true, messages = new[] { new { role = "user", content = "hi" } } }),
        };
        var client = Gateway.Client(setup.Key);
        var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        await reader.ReadLineAsync();

        response.Dispose();
        client.Dispose();

        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!Upstream.Cancelled.ContainsKey(setup.UpstreamId) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }
        Assert.True(Upstream.Cancelled.ContainsKey(setup.UpstreamId), "the upstream request was not cancelled after the client went away");
    }

    [Fact]
    public async Task OpenAISdk_Embeddings_AreForwarded()
    {
        var setup = await fixture.TeamWithModelAsync(name: "team-embedder");

        var embedding = await Sdk(setup.Key).GetEmbeddingClient("team-embedder").GenerateEmbeddingAsync("hello");

        Assert.Equal(3, embedding.Value.ToFloats().Length);
        var received = Assert.Single(Upstream.ReceivedBy(setup.UpstreamId));
        Assert.Equal($"/{setup.UpstreamId}/embeddings", received.Path);
        Assert.Equal($"Bearer {setup.ProviderKey}", received.Header("authorization"));
    }

    [Theory]
    [InlineData("/v1/completions", "completions")]
    [InlineData("/completions", "completions")]
    [InlineData("/v1/responses", "responses")]
    [InlineData("/responses", "responses")]
    [InlineData("/embeddings", "embeddings")]
    [InlineData("/chat/completions", "chat/completions")]
    public async Task EveryOpenAIRoute_ForwardsToTheMatchingProviderPath(string route, string upstreamPath)
    {
        var setup = await fixture.TeamWithModelAsync();

        var response = await Gateway.Client(setup.Key).PostAsJsonAsync(route, new { model = "my-team-model", input = "x", prompt = "x" });

        await response.ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal($"/{setup.UpstreamId}/{upstreamPath}", Assert.Single(Upstream.ReceivedBy(setup.UpstreamId)).Path);
    }

    [Fact]
    public async Task AzureModel_UsesDeploymentPath_ApiVersion_AndApiKeyHeader()
    {
        var team = await Gateway.CreateTeamAsync();
        var key = await Gateway.GenerateKeyAsync(team);
        var apiBase = Upstream.ApiBase("ok", out var id);
        (await Gateway.Client(key).PostAsJsonAsync("/model/new", new
        {
            model_name = "team-azure",
            litellm_params = new { model = "azure/my-gpt4o-deployment", api_base = apiBase, api_version = "2024-06-01", api_key = "azure-provider-key-0000aaaa" },
            model_info = new { team_id = team },
        })).EnsureSuccessStatusCode();

        // An Azure SDK sends its key as api-key and names the model in the path.
        var client = Gateway.Client(key: null);
        client.DefaultRequestHeaders.Add("api-key", key);
        var response = await client.PostAsJsonAsync("/openai/deployments/team-azure/chat/completions?api-version=2024-06-01",
            new { messages = new[] { new { role = "user", content = "hi" } } });

        await response.ReadJsonAsync(HttpStatusCode.OK);
        var received = Assert.Single(Upstream.ReceivedBy(id));
        Assert.Equal($"/{id}/openai/deployments/my-gpt4o-deployment/chat/completions", received.Path);
        Assert.Equal("?api-version=2024-06-01", received.Query);
        Assert.Equal("azure-provider-key-0000aaaa", received.Header("api-key"));
        Assert.Null(received.Header("authorization"));
        Assert.Equal("my-gpt4o-deployment", received.Json["model"]!.GetValue<string>());
    }

    [Fact]
    public async Task ResponseCarriesModelIdAndCallIdHeaders()
    {
        var setup = await fixture.TeamWithModelAsync();

        var callIds = new HashSet<string>();
        for (var i = 0; i < 3; i++)
        {
            var response = await Gateway.Client(setup.Key).PostAsJsonAsync("/v1/chat/completions", new { model = "my-team-model", messages = Array.Empty<object>() });

            await response.ReadJsonAsync(HttpStatusCode.OK);
            Assert.Equal(setup.ModelId, response.Headers.GetValues("x-litellm-model-id").Single());
            var callId = response.Headers.GetValues("x-litellm-call-id").Single();
            // A random uuid, as LiteLLM's are: version 4, RFC 4122 variant, new on every call.
            Assert.Matches("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$", callId);
            Assert.True(callIds.Add(callId), $"call id {callId} was given twice");
        }
    }

    [Fact]
    public async Task CallerIdentifyingHeaders_NeverReachTheProvider()
    {
        var setup = await fixture.TeamWithModelAsync();
        var client = Gateway.Client(setup.Key);
        client.DefaultRequestHeaders.Add("x-litellm-api-key", setup.Key);
        client.DefaultRequestHeaders.Add("Cookie", "session=abc");
        client.DefaultRequestHeaders.Add("OpenAI-Organization", "org-caller");
        client.DefaultRequestHeaders.Add("X-Forwarded-For", "10.1.2.3");

        await (await client.PostAsJsonAsync("/v1/chat/completions", new { model = "my-team-model", messages = Array.Empty<object>() })).ReadJsonAsync(HttpStatusCode.OK);

        var received = Assert.Single(Upstream.ReceivedBy(setup.UpstreamId));
        Assert.Null(received.Header("x-litellm-api-key"));
        Assert.Null(received.Header("cookie"));
        Assert.Null(received.Header("openai-organization"));
        Assert.Null(received.Header("x-forwarded-for"));
        Assert.Equal($"Bearer {setup.ProviderKey}", received.Header("authorization"));
    }

    [Fact]
    public async Task SpendLogs_RecordEachCall_ForTheTeamAdmin()
    {
        var setup = await fixture.TeamWithModelAsync();

        await (await Gateway.Client(setup.Key).PostAsJsonAsync("/v1/chat/completions", new { model = "my-team-model", messages = Array.Empty<object>() })).ReadJsonAsync(HttpStatusCode.OK);

        var log = await Gateway.SingleSpendLogAsync(setup.TeamId);
        Assert.Equal("my-team-model", log["model"]!.GetValue<string>());
        Assert.Equal(setup.ModelId, log["model_id"]!.GetValue<string>());
        Assert.Equal(18, log["total_tokens"]!.GetValue<int>());
        Assert.Equal(200, log["status"]!.GetValue<int>());
        // A plain team key is not the team's admin.
        await (await Gateway.Client(setup.Key).GetAsync($"/spend/logs?team_id={setup.TeamId}")).ReadErrorAsync(HttpStatusCode.Forbidden);
    }
}
