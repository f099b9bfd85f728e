using System.Text.Json.Nodes;
using Microsoft.Extensions.Configuration;
using Proxy.Core;
using Proxy.Core.Spend;

namespace Portal.Tests.Spend;

/// <summary>
/// The built-in table prices a model of every family the gateway serves, looked up as a deployment names it
/// ({provider}/{model}); max_output_tokens comes from the table, configuration or the deployment; a self-hosted
/// model has no price.
/// </summary>
public sealed class PriceTableTests
{
    private static PriceTable Table(Dictionary<string, string?>? config = null) =>
        new(new ConfigurationBuilder().AddInMemoryCollection(config ?? []).Build());

    [Theory]
    [InlineData("openai", "gpt-4o", 2.5e-06, 1e-05, 16384)]
    [InlineData("azure", "gpt-4.1", 2e-06, 8e-06, 32768)]
    [InlineData("anthropic", "claude-sonnet-4-5", 3e-06, 1.5e-05, 64000)]
    [InlineData("gemini", "gemini-2.5-pro", 1.25e-06, 1e-05, 65535)]
    [InlineData("gemini", "gemini-2.0-flash", 1e-07, 4e-07, 8192)]
    [InlineData("vertex_ai", "gemini-2.5-flash", 3e-07, 2.5e-06, 65535)]
    [InlineData("bedrock", "anthropic.claude-sonnet-4-20250514-v1:0", 3e-06, 1.5e-05, 64000)]
    [InlineData("bedrock", "amazon.nova-pro-v1:0", 8e-07, 3.2e-06, 10000)]
    [InlineData("bedrock", "anthropic.claude-3-5-sonnet-20241022-v2:0", 3e-06, 1.5e-05, 8192)]
    [InlineData("mistral", "mistral-large-latest", 2e-06, 6e-06, 128000)]
    [InlineData("mistral", "codestral-latest", 1e-06, 3e-06, 8191)]
    [InlineData("groq", "llama-3.3-70b-versatile", 5.9e-07, 7.9e-07, 32768)]
    [InlineData("groq", "llama-3.1-8b-instant", 5e-08, 8e-08, 8192)]
    [InlineData("deepseek", "deepseek-chat", 2.7e-07, 1.1e-06, 8192)]
    [InlineData("deepseek", "deepseek-reasoner", 5.5e-07, 2.19e-06, 8192)]
    [InlineData("xai", "grok-4", 3e-06, 1.5e-05, 256000)]
    [InlineData("xai", "grok-3-mini", 3e-07, 5e-07, 131072)]
    [InlineData("fireworks_ai", "accounts/fireworks/models/gpt-oss-120b", 1.5e-07, 6e-07, 131072)]
    [InlineData("openrouter", "anthropic/claude-sonnet-4", 3e-06, 1.5e-05, 64000)]
    public void AModelOfEachFamily_HasItsPublishedPrice_AndMaximumOutput(string provider, string model, double input, double output, int maxOutput)
    {
        var price = Table().For(provider, model, null, null);

        Assert.NotNull(price);
        Assert.Equal(input, price.InputCostPerToken);
        Assert.Equal(output, price.OutputCostPerToken);
        Assert.Equal(maxOutput, price.MaxOutputTokens);
    }

    [Fact]
    public void ARowWithoutAMaximum_IsPricedAndSaysSo()
    {
        var price = Table().For("together_ai", "meta-llama/Llama-3.3-70B-Instruct-Turbo", null, null);

        Assert.Equal(new Price(8.8e-07, 8.8e-07), price);
    }

    [Fact]
    public void BedrocksClaude_KeepsAnthropicsCachePrices()
    {
        var price = Table().For("bedrock", "anthropic.claude-haiku-4-5-20251001-v1:0", null, null)!;

        Assert.Equal(1.25e-06, price.CacheCreationInputTokenCost);
        Assert.Equal(1e-07, price.CacheReadInputTokenCost);
    }

    [Theory]
    [InlineData("hosted_vllm", "meta-llama/Llama-3.3-70B-Instruct")]
    [InlineData("ollama", "llama3.1")]
    [InlineData("lm_studio", "qwen2.5-7b-instruct")]
    // Another provider's row is not a self-hosted model's price, even under the same name.
    [InlineData("hosted_vllm", "deepseek/deepseek-chat")]
    public void ASelfHostedModel_HasNoPrice(string provider, string model) =>
        Assert.Null(Table().For(provider, model, null, null));

    [Fact]
    public void ModelsOf_ListsEachProvidersRows_WithoutTheirPrefix()
    {
        var table = Table();

        Assert.Contains("llama-3.3-70b-versatile", table.ModelsOf("groq"));
        Assert.Contains("anthropic.claude-sonnet-4-20250514-v1:0", table.ModelsOf("bedrock"));
        Assert.DoesNotContain(table.ModelsOf("openai"), name => name.Contains("gemini") || name.Contains("claude"));
        Assert.Empty(table.ModelsOf("hosted_vllm"));
    }

    [Fact]
    public void ConfigMaxOutputTokensAlone_ChangesOnlyTheBuiltInRowsMaximum()
    {
        var price = Table(new() { ["Proxy:Prices:gpt-4o:max_output_tokens"] = "4096" }).For("openai", "gpt-4o", null, null);

        Assert.Equal(new Price(2.5e-06, 1e-05, MaxOutputTokens: 4096), price);
    }

    [Fact]
    public void ConfigPrices_KeepTheBuiltInMaximum_UnlessTheyGiveTheirOwn()
    {
        var table = Table(new()
        {
            ["Proxy:Prices:gpt-4o:input_cost_per_token"] = "1e-06",
            ["Proxy:Prices:my-model:input_cost_per_token"] = "1e-06",
            ["Proxy:Prices:my-model:output_cost_per_token"] = "2e-06",
            ["Proxy:Prices:my-model:max_output_tokens"] = "2048",
        });

        Assert.Equal(new Price(1e-06, 0, MaxOutputTokens: 16384), table.For("openai", "gpt-4o", null, null));
        Assert.Equal(new Price(1e-06, 2e-06, MaxOutputTokens: 2048), table.For("openai", "my-model", null, null));
    }

    [Theory]
    [InlineData("Proxy:Prices:unknown-model:max_output_tokens", "100", "Proxy:Prices:unknown-model needs input_cost_per_token")]
    [InlineData("Proxy:Prices:gpt-4o:max_output_tokens", "0", "Proxy:Prices:gpt-4o:max_output_tokens must be a whole number")]
    [InlineData("Proxy:Prices:gpt-4o:max_output_tokens", "1.5", "Proxy:Prices:gpt-4o:max_output_tokens must be a whole number")]
    public void ABadConfigMaximum_FailsAtStartUp_NamingTheKey(string key, string value, string message)
    {
        var e = Assert.Throws<InvalidOperationException>(() => Table(new() { [key] = value }));

        Assert.StartsWith(message, e.Message);
    }

    [Fact]
    public void ModelInfoMaxOutputTokens_BeatsTheTables_AndKeepsTheTablesPrice()
    {
        var price = Table().For("anthropic", "claude-sonnet-4-5", new JsonObject { ["max_output_tokens"] = 8000 }, null)!;

        Assert.Equal(3e-06, price.InputCostPerToken);
        Assert.Equal(8000, price.MaxOutputTokens);
    }

    [Fact]
    public void ModelInfoMaxTokens_IsLiteLlmsOlderNameOfTheSame()
    {
        Assert.Equal(1000, Table().For("openai", "gpt-4o", new JsonObject { ["max_tokens"] = 1000 }, null)!.MaxOutputTokens);
        Assert.Equal(2000, Table().For("openai", "gpt-4o", new JsonObject { ["max_tokens"] = 1000, ["max_output_tokens"] = 2000 }, null)!.MaxOutputTokens);
    }

    [Fact]
    public void LitellmParamsMaxOutputTokens_CountsToo_ButItsMaxTokensIsACallParameter()
    {
        Assert.Equal(3000, Table().For("openai", "gpt-4o", null, new JsonObject { ["max_output_tokens"] = 3000 })!.MaxOutputTokens);
        Assert.Equal(16384, Table().For("openai", "gpt-4o", null, new JsonObject { ["max_tokens"] = 10 })!.MaxOutputTokens);
    }

    [Fact]
    public void ADeploymentsOwnPrice_KeepsTheTablesMaximumForItsModel()
    {
        var own = new JsonObject { ["input_cost_per_token"] = 1e-06, ["output_cost_per_token"] = 2e-06 };

        Assert.Equal(new Price(1e-06, 2e-06, MaxOutputTokens: 16384), Table().For("openai", "gpt-4o", own, null));
        Assert.Equal(new Price(1e-06, 2e-06), Table().For("hosted_vllm", "my-llama", own, null));
    }

    [Fact]
    public void AMaximumAlone_DoesNotPriceAnUnpricedModel() =>
        Assert.Null(Table().For("hosted_vllm", "my-llama", new JsonObject { ["max_output_tokens"] = 4096 }, null));

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(1.5)]
    public void ABadMaximum_IsA400NamingTheField_WhenRegistered_AndSkippedWhenRouting(double value)
    {
        var info = new JsonObject { ["max_output_tokens"] = value };

        var e = Assert.Throws<ProxyError>(() => Proxy.Core.Models.DeploymentParams.Validate([], info));

        Assert.Equal(400, e.Status);
        Assert.Contains("model_info.max_output_tokens", e.Message);
        Assert.Equal(16384, Table().For("openai", "gpt-4o", info, null)!.MaxOutputTokens);
    }
}
