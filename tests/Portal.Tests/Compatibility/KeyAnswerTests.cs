using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Compatibility;

/// <summary>LiteLLM's test_simple_key_gen: token is set and is not the key; token_id, created_at and updated_at are set.</summary>
[Trait("Category", "Database")]
public sealed class KeyAnswerTests(GatewayFactory gateway) : IClassFixture<GatewayFactory>
{
    [Fact]
    public async Task GenerateAndRegenerate_AnswerTokenIdAsTheKeysHash_WithTheirTimes()
    {
        var generated = await (await gateway.Client().PostAsJsonAsync("/key/generate", new { models = Array.Empty<string>(), duration = (string?)null }))
            .ReadJsonAsync(HttpStatusCode.OK);
        var key = generated["key"]!.GetValue<string>();
        Assert.Equal(Hash(key), generated["token"]!.GetValue<string>());
        Assert.Equal(Hash(key), generated["token_id"]!.GetValue<string>());
        Assert.NotNull(generated["created_at"]);
        Assert.NotNull(generated["updated_at"]);

        var regenerated = await (await gateway.Client().PostAsJsonAsync("/key/regenerate", new { key })).ReadJsonAsync(HttpStatusCode.OK);
        var fresh = regenerated["key"]!.GetValue<string>();
        Assert.NotEqual(key, fresh);
        Assert.Equal(Hash(fresh), regenerated["token_id"]!.GetValue<string>());
        Assert.Equal(Hash(fresh), regenerated["token"]!.GetValue<string>());
        Assert.NotNull(regenerated["updated_at"]);
    }

    private static string Hash(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));
}
