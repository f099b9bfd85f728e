using Microsoft.Extensions.DependencyInjection;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using OpenAI;
using OpenAI.Chat;
using Portal.Tests.Infrastructure;
using Caller = Proxy.Core.Access.Caller;
using Proxy.Core.Providers;
using Proxy.Core.Providers.Vertex;

namespace Portal.Tests.Providers;

/// <summary>What <c>/model/new</c> takes for <c>vertex_ai/...</c>, refuses with a 400 naming the field, and how a key file is rotated.</summary>
[Trait("Category", "Database")]
public sealed class VertexRegistrationTests(VertexFixture fixture) : IClassFixture<VertexFixture>
{
    private GatewayFactory Gateway => fixture.Gateway;

    [Theory]
    [InlineData("vertex_project")]
    [InlineData("vertex_location")]
    [InlineData("vertex_credentials")]
    public async Task AMissingParam_IsA400_NamingIt(string missing)
    {
        var (team, key) = await TeamAsync();
        var body = VertexFixture.Registration(team, "vmissing", VertexFixture.Claude, fixture.Google.NewAccount().KeyFile, null);
        body["litellm_params"]!.AsObject().Remove(missing);

        var response = await Gateway.Client(key).PostAsJsonAsync("/model/new", body);

        Assert.Contains($"litellm_params.{missing}", await response.ReadErrorAsync(HttpStatusCode.BadRequest));
    }

    [Fact]
    public async Task AModelOfAnotherPublisher_IsA400_NamingWhatIsSupported()
    {
        var (team, key) = await TeamAsync();

        var response = await Gateway.Client(key).PostAsJsonAsync("/model/new",
            VertexFixture.Registration(team, "vllama", "llama-3.3-70b-instruct-maas", fixture.Google.NewAccount().KeyFile, null));

        var message = await response.ReadErrorAsync(HttpStatusCode.BadRequest);
        Assert.Contains("vertex_ai/claude-", message);
        Assert.Contains("vertex_ai/gemini-", message);
    }

    [Theory]
    [InlineData("not a key file", "JSON key file")]
    [InlineData("""{"type":"service_account","client_email":"a@b.iam.gserviceaccount.com","private_key":"-----BEGIN PRIVATE KEY-----\nc2VjcmV0LWJ5dGVz\n-----END PRIVATE KEY-----"}""", "not an RSA private key")]
    public async Task ABrokenKeyFile_IsA400_ThatQuotesNoneOfIt(string keyFile, string expected)
    {
        var (team, key) = await TeamAsync();

        var response = await Gateway.Client(key).PostAsJsonAsync("/model/new", VertexFixture.Registration(team, "vbroken", VertexFixture.Claude, keyFile, null));

        var message = await response.ReadErrorAsync(HttpStatusCode.BadRequest);
        Assert.Contains(expected, message);
        Assert.DoesNotContain("c2VjcmV0", message);
    }

    [Fact]
    public async Task ATokenUriIntoADeniedNetwork_IsA400()
    {
        var (team, key) = await TeamAsync();
        var keyFile = JsonNode.Parse(fixture.Google.NewAccount().KeyFile)!.AsObject();
        keyFile["token_uri"] = "http://169.254.169.254/computeMetadata/v1/instance/service-accounts/default/token";

        var response = await Gateway.Client(key).PostAsJsonAsync("/model/new", VertexFixture.Registration(team, "vmeta", VertexFixture.Claude, keyFile.ToJsonString(), null));

        var message = await response.ReadErrorAsync(HttpStatusCode.BadRequest);
        Assert.Contains("vertex_credentials.token_uri", message);
        Assert.Contains("denied network", message);
    }

    [Fact]
    public async Task ALocationThatIsNoLocation_IsA400()
    {
        var (team, key) = await TeamAsync();
        var body = VertexFixture.Registration(team, "vloc", VertexFixture.Claude, fixture.Google.NewAccount().KeyFile, null);
        body["litellm_params"]!["vertex_location"] = "evil.example.com/x";

        var response = await Gateway.Client(key).PostAsJsonAsync("/model/new", body);

        Assert.Contains("litellm_params.vertex_location", await response.ReadErrorAsync(HttpStatusCode.BadRequest));
    }

    [Fact]
    public async Task AKeyFileAsAJsonObject_IsTaken_AndRotatingIt_UsesTheNewAccount()
    {
        var (team, key) = await TeamAsync();
        var (first, _) = fixture.Google.NewAccount(VertexFixture.Project);
        var body = VertexFixture.Registration(team, "vrotate", VertexFixture.Claude, first, fixture.Vertex.ApiBase("vertex", out var upstream));
        body["litellm_params"]!["vertex_credentials"] = JsonNode.Parse(first);
        var created = await (await Gateway.Client(key).PostAsJsonAsync("/model/new", body)).ReadJsonAsync(HttpStatusCode.OK);
        var chat = new OpenAIClient(new System.ClientModel.ApiKeyCredential(key), new OpenAIClientOptions { Endpoint = new Uri(Gateway.BaseAddress, "/v1") }).GetChatClient("vrotate");
        await chat.CompleteChatAsync([new UserChatMessage("hi")]);
        var (second, secondEmail) = fixture.Google.NewAccount(VertexFixture.Project);

        (await Gateway.Client(key).PostAsJsonAsync("/model/update", new JsonObject
        {
            ["model_info"] = new JsonObject { ["id"] = created["model_id"]!.GetValue<string>() },
            ["litellm_params"] = new JsonObject { ["vertex_credentials"] = second },
        })).EnsureSuccessStatusCode();
        await chat.CompleteChatAsync([new UserChatMessage("hi")]);

        var calls = fixture.Vertex.ReceivedBy(upstream);
        Assert.Equal(2, calls.Count);
        Assert.Equal(secondEmail, fixture.Google.AccountOf(calls[1].Header("authorization")!["Bearer ".Length..]));
        Assert.NotEqual(calls[0].Header("authorization"), calls[1].Header("authorization"));
    }

    [Theory]
    [InlineData("us-east5", "https://us-east5-aiplatform.googleapis.com/")]
    [InlineData("europe-west4", "https://europe-west4-aiplatform.googleapis.com/")]
    [InlineData("global", "https://aiplatform.googleapis.com/")]
    public void TheHost_FollowsTheLocation_AndGlobalHasNone(string location, string host)
    {
        var credentials = new DeploymentCredentials { VertexProject = "my-project", VertexLocation = location };
        var apiBase = Provider.Named(Provider.VertexAi)!.BaseFor(null, credentials);

        var claude = VertexClaudeApi.Instance.UpstreamUri(apiBase, "claude-sonnet-4-5@20250929", null, Proxy.Core.Forwarding.LlmRoute.ChatCompletions, credentials);

        Assert.Equal($"{host}v1/projects/my-project/locations/{location}/publishers/anthropic/models/claude-sonnet-4-5@20250929:rawPredict", claude.AbsoluteUri);
        Assert.EndsWith(":streamRawPredict", VertexClaudeApi.Instance.StreamUri(claude).AbsoluteUri);
        var gemini = VertexGeminiApi.Instance.UpstreamUri(apiBase, "gemini-2.5-flash", null, Proxy.Core.Forwarding.LlmRoute.ChatCompletions, credentials);
        Assert.Equal($"{host}v1/projects/my-project/locations/{location}/publishers/google/models/gemini-2.5-flash:streamGenerateContent?alt=sse", VertexGeminiApi.Instance.StreamUri(gemini).AbsoluteUri);
    }

    [Fact]
    public async Task TheFormsModelList_IsModelGardensGeminiAndClaude_EveryPage_WithTheTypedKeyFilesToken()
    {
        var (team, _) = await TeamAsync();
        var (keyFile, email) = fixture.Google.NewAccount(VertexFixture.Project);
        await using var scope = Gateway.Services.CreateAsyncScope();
        var probe = scope.ServiceProvider.GetRequiredService<Proxy.Core.Forwarding.ConnectionProbe>();
        var typed = new Dictionary<string, string> { ["vertex_credentials"] = keyFile, ["vertex_project"] = VertexFixture.Project, ["vertex_location"] = VertexFixture.Location };

        var listed = await probe.ProviderModelsAsync(Caller.MasterKey, team, "vertex_ai", fixture.Vertex.ApiBase("vertex", out var upstream), null, null, typed);

        // Imagen and the embedding model are no models the gateway speaks on Vertex AI; the Gemini list came in three pages.
        Assert.Equal(["claude-3-haiku@20240307", "claude-opus-4-1@20250805", "claude-sonnet-4-5@20250929", "gemini-2.0-flash-001", "gemini-2.5-flash", "gemini-2.5-pro"], listed);
        var requests = fixture.Vertex.ReceivedBy(upstream);
        Assert.Equal(3, requests.Count(r => r.Path == $"/{upstream}/v1beta1/publishers/google/models"));
        Assert.Equal(2, requests.Count(r => r.Path == $"/{upstream}/v1beta1/publishers/anthropic/models"));
        Assert.All(requests, r => Assert.Equal(email, fixture.Google.AccountOf(r.Header("authorization")!["Bearer ".Length..])));
    }

    [Fact]
    public async Task TheFormsModelList_OnEdit_UsesTheStoredKeyFile_AndWithoutOne_GooglesRefusalIsSaid()
    {
        var setup = await fixture.TeamWithModelAsync();
        await using var scope = Gateway.Services.CreateAsyncScope();
        var probe = scope.ServiceProvider.GetRequiredService<Proxy.Core.Forwarding.ConnectionProbe>();
        var apiBase = fixture.Vertex.ApiBase("vertex", out _);
        var place = new Dictionary<string, string> { ["vertex_project"] = VertexFixture.Project, ["vertex_location"] = VertexFixture.Location };

        var stored = await probe.ProviderModelsAsync(Caller.MasterKey, setup.TeamId, "vertex_ai", apiBase, null, setup.ModelId, place);
        var none = await Assert.ThrowsAsync<Proxy.Core.ProxyError>(() => probe.ProviderModelsAsync(Caller.MasterKey, setup.TeamId, "vertex_ai", apiBase, null, null, place));

        Assert.Contains(VertexFixture.Gemini, stored);
        Assert.Equal(502, none.Status);
        Assert.Contains("answered 401", none.Message);
    }

    private async Task<(string Team, string Key)> TeamAsync()
    {
        var team = await Gateway.CreateTeamAsync();
        return (team, await Gateway.GenerateKeyAsync(team));
    }
}
