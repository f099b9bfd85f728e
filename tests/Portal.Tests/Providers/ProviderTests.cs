using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Portal.Tests.Infrastructure;
using Proxy.Core.Access;
using Proxy.Core.Models;
using Proxy.Core.Routing;

namespace Portal.Tests.Providers;

/// <summary>OpenAI-compatible providers by name: each its default api_base, all on the forwarding path of openai.</summary>
[Trait("Category", "Database")]
public sealed class ProviderTests(LlmFixture fixture) : IClassFixture<LlmFixture>
{
    private GatewayFactory Gateway => fixture.Gateway;
    private StandInUpstream Upstream => fixture.Upstream;

    public static TheoryData<string, string> Hosted => new()
    {
        { "groq", "https://api.groq.com/openai/v1" },
        { "mistral", "https://api.mistral.ai/v1" },
        { "deepseek", "https://api.deepseek.com/v1" },
        { "together_ai", "https://api.together.xyz/v1" },
        { "fireworks_ai", "https://api.fireworks.ai/inference/v1" },
        { "openrouter", "https://openrouter.ai/api/v1" },
        { "perplexity", "https://api.perplexity.ai" },
        { "xai", "https://api.x.ai/v1" },
        { "anthropic", "https://api.anthropic.com" },
    };

    [Theory]
    [MemberData(nameof(Hosted))]
    public async Task AHostedProvider_ByName_GetsItsDefaultApiBase(string provider, string defaultBase)
    {
        var (team, key) = await TeamAsync();

        var model = await (await Gateway.Client(key).PostAsJsonAsync("/model/new", new
        {
            model_name = $"by-name-{provider}", litellm_params = new { model = $"{provider}/some-model", api_key = "sk-provider-by-name-0001" }, model_info = new { team_id = team },
        })).ReadJsonAsync(HttpStatusCode.OK);

        Assert.Equal(provider, model["litellm_params"]!["custom_llm_provider"]!.GetValue<string>());
        var deployment = Gateway.Services.GetRequiredService<ModelCatalog>().Deployment(model["model_id"]!.GetValue<string>())!;
        Assert.Equal(defaultBase.TrimEnd('/') + "/", deployment.ApiBase.AbsoluteUri.TrimEnd('/') + "/");
        Assert.Equal("some-model", deployment.UpstreamModel);
    }

    [Theory]
    [InlineData("groq/llama-3.3-70b", "llama-3.3-70b", "/chat/completions")]
    [InlineData("hosted_vllm/meta-llama/Llama-3.1-8B-Instruct", "meta-llama/Llama-3.1-8B-Instruct", "/chat/completions")]
    [InlineData("lm_studio/qwen2.5-7b", "qwen2.5-7b", "/chat/completions")]
    [InlineData("ollama/llama3.2", "llama3.2", "/v1/chat/completions")]
    public async Task AnOpenAICompatibleProvider_IsCalledOnOpenAIsRoute_WithABearerKey(string upstreamModel, string sentModel, string path)
    {
        var (team, key) = await TeamAsync();
        var apiBase = Upstream.ApiBase("ok", out var upstream);
        (await Gateway.Client(key).PostAsJsonAsync("/model/new", new
        {
            model_name = "compatible", litellm_params = new { model = upstreamModel, api_key = "sk-provider-compatible-0001", api_base = apiBase }, model_info = new { team_id = team },
        })).EnsureSuccessStatusCode();

        var response = await Gateway.Client(key).PostAsJsonAsync("/v1/chat/completions", Spend.Spend.Chat("compatible"));

        await response.ReadJsonAsync(HttpStatusCode.OK);
        var received = Assert.Single(Upstream.ReceivedBy(upstream));
        Assert.Equal($"/{upstream}{path}", received.Path);
        Assert.Equal(sentModel, received.Json["model"]!.GetValue<string>());
        Assert.Equal("Bearer sk-provider-compatible-0001", received.Header("authorization"));
    }

    [Theory]
    [InlineData("hosted_vllm", "http://my-vllm-server:8000/v1")]
    [InlineData("ollama", "http://localhost:11434")]
    [InlineData("lm_studio", "http://localhost:1234/v1")]
    [InlineData("azure", "https://YOUR-RESOURCE.openai.azure.com")]
    public async Task ASelfHostedProvider_WithoutApiBase_IsA400ThatShowsOne(string provider, string example)
    {
        var (team, key) = await TeamAsync();

        var response = await Gateway.Client(key).PostAsJsonAsync("/model/new", new
        {
            model_name = "no-base", litellm_params = new { model = $"{provider}/m", api_key = "sk-provider-no-base-0001" }, model_info = new { team_id = team },
        });

        var message = await response.ReadErrorAsync(HttpStatusCode.BadRequest);
        Assert.Contains($"api_base is required for {provider} models", message);
        Assert.Contains(example, message);
    }

    [Fact]
    public async Task AnUnknownProvider_IsA400NamingTheSupportedOnes()
    {
        var (team, key) = await TeamAsync();

        var response = await Gateway.Client(key).PostAsJsonAsync("/model/new", new
        {
            model_name = "unknown", litellm_params = new { model = "sagemaker/claude", api_key = "k" }, model_info = new { team_id = team },
        });

        var message = await response.ReadErrorAsync(HttpStatusCode.BadRequest);
        Assert.Contains("Provider 'sagemaker' is not supported", message);
        Assert.Contains("anthropic", message);
        Assert.Contains("groq", message);
    }

    [Fact]
    public async Task TheProvidersModels_AreListedForTheForm_WithTheTeamsKey()
    {
        var (team, _) = await TeamAsync();
        var apiBase = Upstream.ApiBase("ok", out var upstream);
        await using var scope = Gateway.Services.CreateAsyncScope();
        var models = scope.ServiceProvider.GetRequiredService<Proxy.Core.Forwarding.ConnectionProbe>();

        var listed = await models.ProviderModelsAsync(Caller.MasterKey, team, "groq", apiBase, "sk-provider-listing-0001", null);
        var anthropic = await models.ProviderModelsAsync(Caller.MasterKey, team, "anthropic", Upstream.ApiBase("claude", out _), "sk-ant-listing", null);

        Assert.Equal(["gemma2-9b", "llama-3.3-70b"], listed);
        Assert.Equal(["claude-haiku-4-5", "claude-sonnet-4-5"], anthropic);
        Assert.Equal("Bearer sk-provider-listing-0001", Assert.Single(Upstream.ReceivedBy(upstream)).Header("authorization"));
        var azure = await Assert.ThrowsAsync<Proxy.Core.ProxyError>(() => models.ProviderModelsAsync(Caller.MasterKey, team, "azure", "https://my.openai.azure.com", "k", null));
        Assert.Contains("type the deployment name", azure.Message);
    }

    private async Task<(string Team, string Key)> TeamAsync()
    {
        var team = await Gateway.CreateTeamAsync();
        return (team, await Gateway.GenerateKeyAsync(team));
    }
}
