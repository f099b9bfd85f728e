using System.Text.Json;
using Proxy.Core.Providers;

namespace Portal.Tests.Providers;

/// <summary>Each provider's model-list shape as the form's list reads it: the ids to offer and the next page to ask for.</summary>
public sealed class ModelListPageTests
{
    [Theory]
    [InlineData("""{"object":"list","data":[{"id":"gpt-4o"},{"id":"gpt-4o-mini"}]}""", "gpt-4o,gpt-4o-mini", null)]
    [InlineData("""{"data":[{"id":"claude-sonnet-4-5","type":"model"}],"has_more":true,"first_id":"claude-sonnet-4-5","last_id":"claude-sonnet-4-5"}""", "claude-sonnet-4-5", "after_id=claude-sonnet-4-5")]
    [InlineData("""{"data":[{"id":"claude-haiku-4-5"}],"has_more":false,"last_id":"claude-haiku-4-5"}""", "claude-haiku-4-5", null)]
    [InlineData("""{"models":[{"name":"models/gemini-2.5-flash"}],"nextPageToken":"Cg1 x/y"}""", "gemini-2.5-flash", "pageToken=Cg1%20x%2Fy")]
    [InlineData("""{"modelSummaries":[{"modelId":"amazon.nova-lite-v1:0","outputModalities":["TEXT"],"inferenceTypesSupported":["ON_DEMAND"]},{"modelId":"anthropic.claude-3-7-sonnet-20250219-v1:0","outputModalities":["TEXT"],"inferenceTypesSupported":["INFERENCE_PROFILE"]},{"modelId":"amazon.titan-embed-text-v2:0","outputModalities":["EMBEDDING"],"inferenceTypesSupported":["ON_DEMAND"]}]}""", "amazon.nova-lite-v1:0", null)]
    [InlineData("""{"inferenceProfileSummaries":[{"inferenceProfileId":"us.anthropic.claude-3-7-sonnet-20250219-v1:0","status":"ACTIVE"},{"inferenceProfileId":"us.old","status":"LEGACY"}],"nextToken":"2"}""", "us.anthropic.claude-3-7-sonnet-20250219-v1:0", "nextToken=2")]
    [InlineData("""{"publisherModels":[{"name":"publishers/anthropic/models/claude-sonnet-4-5","versionId":"20250929"},{"name":"publishers/google/models/gemini-2.5-pro","versionId":"001"},{"name":"publishers/google/models/imagen-4.0-generate-001"}]}""", "claude-sonnet-4-5@20250929,gemini-2.5-pro", null)]
    [InlineData("{}", "", null)]
    public void APage_GivesTheIdsToOffer_AndTheNextPage(string json, string ids, string? next)
    {
        using var page = JsonDocument.Parse(json);

        var read = ModelListPage.Read(page.RootElement);

        Assert.Equal(ids.Length == 0 ? [] : ids.Split(','), read.Ids);
        Assert.Equal(next, read.NextQuery);
    }

    [Theory]
    [InlineData("[]")]
    [InlineData("""{"error":{"message":"quota"}}""")]
    [InlineData("""{"data":[{"name":"no id"}]}""")]
    public void AnythingElse_IsNoModelList_AsAnErrorTheFormSays(string json)
    {
        using var page = JsonDocument.Parse(json);

        var refused = Record.Exception(() => ModelListPage.Read(page.RootElement));

        // The ones ConnectionProbe turns into "not a model list" (a 502), never a 500.
        Assert.True(refused is JsonException or KeyNotFoundException or InvalidOperationException, refused?.GetType().Name ?? "no exception");
    }
}
