using System.ClientModel;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using OpenAI;
using OpenAI.Audio;
using OpenAI.Images;
using OpenAI.Moderations;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Forwarding;

/// <summary>
/// Issue 29: images/generations, moderations, audio/speech and audio/transcriptions, called through the official OpenAI
/// .NET SDK where it has the route, reach the team's deployment with the team's key and the upstream model name, through
/// the same pipeline as chat (usage rows, refusals, key types).
/// </summary>
[Trait("Category", "Database")]
public sealed class MediaRouteTests(LlmFixture fixture) : IClassFixture<LlmFixture>
{
    private GatewayFactory Gateway => fixture.Gateway;
    private StandInUpstream Upstream => fixture.Upstream;

    private OpenAIClient Sdk(string key) =>
        new(new ApiKeyCredential(key), new OpenAIClientOptions { Endpoint = new Uri(Gateway.BaseAddress, "/v1") });

    [Fact]
    public async Task OpenAISdk_ImageGeneration_ReachesTheTeamsDeployment_AndRecordsTheAnswersUsage()
    {
        var setup = await fixture.TeamWithModelAsync(name: "team-painter");

        var image = await Sdk(setup.Key).GetImageClient("team-painter").GenerateImageAsync("A lighthouse at dusk", new ImageGenerationOptions { ResponseFormat = GeneratedImageFormat.Bytes });

        Assert.Equal("not really a png", Encoding.UTF8.GetString(image.Value.ImageBytes.ToArray()));
        var received = AssertReachedTheTeam(setup, "images/generations");
        Assert.Equal("gpt-4o", received.Json["model"]!.GetValue<string>());
        Assert.Equal("A lighthouse at dusk", received.Json["prompt"]!.GetValue<string>());
        var log = await Gateway.SingleSpendLogAsync(setup.TeamId);
        Assert.Equal("images/generations", log["call_type"]!.GetValue<string>());
        Assert.Equal(50, log["prompt_tokens"]!.GetValue<int>());
        Assert.Equal(100, log["completion_tokens"]!.GetValue<int>());
        Assert.Equal(150, log["total_tokens"]!.GetValue<int>());
    }

    [Fact]
    public async Task OpenAISdk_Moderation_ReachesTheTeamsDeployment_AndRecordsARowWithoutTokens()
    {
        var setup = await fixture.TeamWithModelAsync(name: "team-moderator");

        var result = await Sdk(setup.Key).GetModerationClient("team-moderator").ClassifyTextAsync("I like sunny days.");

        Assert.False(result.Value.Flagged);
        var received = AssertReachedTheTeam(setup, "moderations");
        Assert.Equal("gpt-4o", received.Json["model"]!.GetValue<string>());
        var log = await Gateway.SingleSpendLogAsync(setup.TeamId);
        Assert.Equal(200, log["status"]!.GetValue<int>());
        Assert.Equal(0, log["total_tokens"]!.GetValue<int>());
    }

    [Fact]
    public async Task Moderation_WithoutModel_IsA400NamingModel()
    {
        var setup = await fixture.TeamWithModelAsync();

        var response = await Gateway.Client(setup.Key).PostAsJsonAsync("/v1/moderations", new { input = "hello" });

        Assert.Contains("model is required", await response.ReadErrorAsync(HttpStatusCode.BadRequest, "invalid_request_error"));
        Assert.Equal("model", (await JsonNode.ParseAsync(await response.Content.ReadAsStreamAsync()))!["error"]!["param"]!.GetValue<string>());
        Assert.Empty(Upstream.ReceivedBy(setup.UpstreamId));
    }

    [Fact]
    public async Task OpenAISdk_Speech_ReturnsTheProvidersAudioBytes_AndCountsNoEstimatedTokens()
    {
        var setup = await fixture.TeamWithModelAsync(name: "team-voice");

        var audio = await Sdk(setup.Key).GetAudioClient("team-voice").GenerateSpeechAsync("Sunny in Boston.", GeneratedSpeechVoice.Alloy);

        Assert.Equal(StandInUpstream.Speech, audio.Value.ToArray());
        var received = AssertReachedTheTeam(setup, "audio/speech");
        Assert.Equal("gpt-4o", received.Json["model"]!.GetValue<string>());
        var log = await Gateway.SingleSpendLogAsync(setup.TeamId);
        Assert.Equal(200, log["status"]!.GetValue<int>());
        // 64 KiB of audio is not 16k tokens of text: no usage in the answer, no tokens (and none estimated).
        Assert.Equal(0, log["total_tokens"]!.GetValue<int>());
        Assert.False(log["tokens_estimated"]!.GetValue<bool>());
        Assert.Equal("audio/speech", log["call_type"]!.GetValue<string>());
    }

    [Fact]
    public async Task Speech_IsRelayedAsItArrives_NotAfterTheProviderHasFinished()
    {
        var setup = await fixture.TeamWithModelAsync("gated", name: "team-voice");
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/audio/speech")
        {
            Content = JsonContent.Create(new { model = "team-voice", input = "Sunny in Boston.", voice = "alloy" }),
        };

        using var response = await Gateway.Client(setup.Key).SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var stream = await response.Content.ReadAsStreamAsync();
        var half = StandInUpstream.Speech.Length / 2;
        var first = new byte[half];
        await stream.ReadExactlyAsync(first).AsTask().WaitAsync(TimeSpan.FromSeconds(10));

        // The provider is still holding the second half back: the gateway relayed the first without waiting for it.
        Assert.Equal(StandInUpstream.Speech.AsSpan(0, half).ToArray(), first);
        Assert.Equal("audio/mpeg", response.Content.Headers.ContentType!.MediaType);
        Upstream.Release(setup.UpstreamId);
        using var rest = new MemoryStream();
        await stream.CopyToAsync(rest).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(StandInUpstream.Speech.AsSpan(half).ToArray(), rest.ToArray());
    }

    [Fact]
    public async Task OpenAISdk_Transcription_SendsTheFileByteForByte_WithOnlyTheModelRewritten()
    {
        var setup = await fixture.TeamWithModelAsync(name: "team-ears");
        var audio = AudioBytes(5 * 1024 * 1024 + 17, "team-ears");

        var transcription = await Sdk(setup.Key).GetAudioClient("team-ears").TranscribeAudioAsync(new MemoryStream(audio), "weather.mp3");

        Assert.Equal("Sunny in Boston.", transcription.Value.Text);
        var received = AssertReachedTheTeam(setup, "audio/transcriptions");
        Assert.StartsWith("multipart/form-data", received.Header("content-type"));
        var form = received.Form;
        Assert.Equal("gpt-4o", Encoding.UTF8.GetString(form["model"]));
        Assert.Equal(SHA256.HashData(audio), SHA256.HashData(form["file"]));
        var log = await Gateway.SingleSpendLogAsync(setup.TeamId);
        Assert.Equal(14, log["prompt_tokens"]!.GetValue<int>());
        Assert.Equal(4, log["completion_tokens"]!.GetValue<int>());
        Assert.Equal(18, log["total_tokens"]!.GetValue<int>());
    }

    [Fact]
    public async Task Transcription_EveryByteButTheModelValue_ReachesTheProviderAsSent()
    {
        var setup = await fixture.TeamWithModelAsync(name: "team-ears");
        var audio = AudioBytes(300_000, "x");
        using var form = new MultipartFormDataContent("gateway-test-boundary");
        form.Add(new StringContent("en"), "language");
        form.Add(new ByteArrayContent(audio) { Headers = { { "Content-Type", "audio/mpeg" } } }, "file", "weather.mp3");
        form.Add(new StringContent("team-ears"), "model");
        form.Add(new StringContent("json"), "response_format");
        var sent = await form.ReadAsByteArrayAsync();

        var response = await Gateway.Client(setup.Key).PostAsync("/audio/transcriptions", new ByteArrayContent(sent) { Headers = { { "Content-Type", form.Headers.ContentType!.ToString() } } });

        await response.ReadJsonAsync(HttpStatusCode.OK);
        var received = AssertReachedTheTeam(setup, "audio/transcriptions");
        var expected = Encoding.Latin1.GetString(sent).Replace("\r\n\r\nteam-ears\r\n", "\r\n\r\ngpt-4o\r\n");
        Assert.Equal(expected, Encoding.Latin1.GetString(received.Raw));
        Assert.Equal(form.Headers.ContentType!.ToString(), received.Header("content-type"));
    }

    [Fact]
    public async Task Transcription_FormWithoutModel_Or_NotAForm_IsA400InTheEnvelope()
    {
        var setup = await fixture.TeamWithModelAsync(name: "team-ears");
        using var noModel = new MultipartFormDataContent();
        noModel.Add(new ByteArrayContent(AudioBytes(1000, "y")), "file", "weather.mp3");

        var withoutModel = await Gateway.Client(setup.Key).PostAsync("/v1/audio/transcriptions", noModel);
        var json = await Gateway.Client(setup.Key).PostAsJsonAsync("/v1/audio/transcriptions", new { model = "team-ears", file = "aGVsbG8=" });
        var truncated = await Gateway.Client(setup.Key).PostAsync("/v1/audio/transcriptions",
            new StringContent("--b\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\nteam-ears", Encoding.UTF8, "multipart/form-data") { Headers = { ContentType = new("multipart/form-data") { Parameters = { new("boundary", "b") } } } });

        Assert.Contains("form field named \"model\"", await withoutModel.ReadErrorAsync(HttpStatusCode.BadRequest, "invalid_request_error"));
        Assert.Equal("model", (await withoutModel.Content.ReadFromJsonAsync<JsonObject>())!["error"]!["param"]!.GetValue<string>());
        Assert.Contains("multipart/form-data", await json.ReadErrorAsync(HttpStatusCode.BadRequest, "invalid_request_error"));
        Assert.Contains("malformed", await truncated.ReadErrorAsync(HttpStatusCode.BadRequest, "invalid_request_error"));
        Assert.Empty(Upstream.ReceivedBy(setup.UpstreamId));
    }

    [Fact]
    public async Task Transcription_WithTheModelTwice_IsRefused()
    {
        var setup = await fixture.TeamWithModelAsync(name: "team-ears");
        using var form = new MultipartFormDataContent();
        form.Add(new StringContent("team-ears"), "model");
        form.Add(new ByteArrayContent(AudioBytes(1000, "y")), "file", "weather.mp3");
        form.Add(new StringContent("gpt-4-32k-expensive"), "model");

        var response = await Gateway.Client(setup.Key).PostAsync("/v1/audio/transcriptions", form);

        Assert.Contains("more than once", await response.ReadErrorAsync(HttpStatusCode.BadRequest));
        Assert.Empty(Upstream.ReceivedBy(setup.UpstreamId));
    }

    [Theory]
    [InlineData("/v1/images/generations")]
    [InlineData("/images/generations")]
    [InlineData("/v1/moderations")]
    [InlineData("/moderations")]
    [InlineData("/v1/audio/speech")]
    [InlineData("/audio/speech")]
    [InlineData("/v1/audio/transcriptions")]
    [InlineData("/audio/transcriptions")]
    public async Task EveryNewRoute_RefusesAnotherTeamsModel_AsMissing_AndServesAnLlmApiKey_ButNotAManagementKey(string route)
    {
        var setup = await fixture.TeamWithModelAsync(name: "team-media");
        var other = await fixture.TeamWithModelAsync(name: "team-media-b");
        var llmApi = await Gateway.GenerateKeyAsync(setup.TeamId, new { key_type = "llm_api" });
        var management = await Gateway.GenerateKeyAsync(setup.TeamId, new { key_type = "management" });

        var foreign = await Gateway.Client(setup.Key).PostAsync(route, Body(route, "team-media-b"));
        var asLlmApi = await Gateway.Client(llmApi).PostAsync(route, Body(route, "team-media"));
        var asManagement = await Gateway.Client(management).PostAsync(route, Body(route, "team-media"));

        Assert.Contains("Invalid model name", await foreign.ReadErrorAsync(HttpStatusCode.BadRequest, "invalid_request_error"));
        Assert.Empty(Upstream.ReceivedBy(other.UpstreamId));
        Assert.True(asLlmApi.IsSuccessStatusCode, $"{(int)asLlmApi.StatusCode}: {await asLlmApi.Content.ReadAsStringAsync()}");
        await asManagement.ReadErrorAsync(HttpStatusCode.Forbidden);
        var reached = Assert.Single(Upstream.ReceivedBy(setup.UpstreamId));
        Assert.Equal($"/{setup.UpstreamId}/{route.Replace("/v1/", "/")[1..]}", reached.Path);
        Assert.DoesNotContain(reached.Headers, h => h.Value.Contains(llmApi));
    }

    [Theory]
    [InlineData("/v1/images/generations")]
    [InlineData("/v1/audio/speech")]
    [InlineData("/v1/audio/transcriptions")]
    [InlineData("/v1/moderations")]
    public async Task AnAnthropicModel_IsA400SayingWhatItAnswers(string route)
    {
        var team = await Gateway.CreateTeamAsync();
        var key = await Gateway.GenerateKeyAsync(team);
        (await Gateway.Client(key).PostAsJsonAsync("/model/new", new
        {
            model_name = "claude",
            litellm_params = new { model = "anthropic/claude-sonnet-4-5", api_key = "sk-ant-provider-key", api_base = Upstream.ApiBase("claude", out var id) },
            model_info = new { team_id = team },
        })).EnsureSuccessStatusCode();

        var response = await Gateway.Client(key).PostAsync(route, Body(route, "claude"));

        Assert.Contains("served by anthropic, which answers chat/completions, responses only", await response.ReadErrorAsync(HttpStatusCode.BadRequest));
        Assert.Empty(Upstream.ReceivedBy(id));
    }

    [Fact]
    public async Task AzureModel_TranscriptionAtAzuresPath_GetsTheModelInTheForm_AndTheFileIntact()
    {
        var team = await Gateway.CreateTeamAsync();
        var key = await Gateway.GenerateKeyAsync(team);
        (await Gateway.Client(key).PostAsJsonAsync("/model/new", new
        {
            model_name = "team-whisper",
            litellm_params = new { model = "azure/my-whisper", api_base = Upstream.ApiBase("ok", out var id), api_version = "2024-06-01", api_key = "azure-provider-key-0000bbbb" },
            model_info = new { team_id = team },
        })).EnsureSuccessStatusCode();
        var audio = AudioBytes(200_000, "azure");
        using var form = new MultipartFormDataContent();
        form.Add(new ByteArrayContent(audio), "file", "weather.wav");
        var client = Gateway.Client(key: null);
        client.DefaultRequestHeaders.Add("api-key", key);

        var response = await client.PostAsync("/openai/deployments/team-whisper/audio/transcriptions?api-version=2024-06-01", form);
        var moderation = await client.PostAsJsonAsync("/v1/moderations", new { model = "team-whisper", input = "hi" });

        await response.ReadJsonAsync(HttpStatusCode.OK);
        var received = Assert.Single(Upstream.ReceivedBy(id));
        Assert.Equal($"/{id}/openai/deployments/my-whisper/audio/transcriptions", received.Path);
        Assert.Equal("azure-provider-key-0000bbbb", received.Header("api-key"));
        Assert.Equal("my-whisper", Encoding.UTF8.GetString(received.Form["model"]));
        Assert.Equal(SHA256.HashData(audio), SHA256.HashData(received.Form["file"]));
        // Azure OpenAI has no moderations operation.
        Assert.Contains("/moderations is not available", await moderation.ReadErrorAsync(HttpStatusCode.BadRequest));
    }

    private ReceivedRequest AssertReachedTheTeam(TeamSetup setup, string operation)
    {
        var received = Assert.Single(Upstream.ReceivedBy(setup.UpstreamId));
        Assert.Equal($"/{setup.UpstreamId}/{operation}", received.Path);
        Assert.Equal($"Bearer {setup.ProviderKey}", received.Header("authorization"));
        Assert.DoesNotContain(received.Headers, h => h.Value.Contains(setup.Key));
        Assert.DoesNotContain(setup.Key, received.Body);
        return received;
    }

    /// <summary>A request body for <paramref name="route"/> naming <paramref name="model"/>: a form for transcriptions, JSON otherwise.</summary>
    private static HttpContent Body(string route, string model)
    {
        if (route.EndsWith("/transcriptions", StringComparison.Ordinal))
        {
            var form = new MultipartFormDataContent();
            form.Add(new StringContent(model), "model");
            form.Add(new ByteArrayContent(AudioBytes(2000, model)), "file", "weather.mp3");
            return form;
        }
        return JsonContent.Create(new { model, prompt = "a lighthouse", input = "Sunny in Boston.", voice = "alloy" });
    }

    /// <summary>Bytes that look nothing like text, with CRLFs and dashes (a boundary's pieces) inside, different per seed.</summary>
    private static byte[] AudioBytes(int length, string seed)
    {
        var bytes = new byte[length];
        new Random(seed.GetHashCode(StringComparison.Ordinal)).NextBytes(bytes);
        for (var i = 0; i + 4 < length; i += 997)
        {
            "\r\n--"u8.CopyTo(bytes.AsSpan(i));
        }
        return bytes;
    }
}
