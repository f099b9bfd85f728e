using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace Portal.Tests.Infrastructure;

/// <summary>Calls to the gateway's Messages route as an Anthropic client makes them, and its errors as such a client reads them.</summary>
public static class AnthropicCalls
{
    /// <summary>The smallest Messages request for <paramref name="model"/>.</summary>
    public static JsonObject Message(string model) => new()
    {
        ["model"] = model, ["max_tokens"] = 50, ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "hi" }),
    };

    /// <summary><c>POST /v1/messages</c> with the key as <c>x-api-key</c> and <c>anthropic-version</c>, as the Anthropic SDKs send them.</summary>
    public static async Task<HttpResponseMessage> PostAsync(GatewayFactory gateway, string key, JsonObject body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/messages") { Content = JsonContent.Create(body) };
        request.Headers.Add("x-api-key", key);
        request.Headers.Add("anthropic-version", "2023-06-01");
        return await gateway.Client(null).SendAsync(request);
    }

    /// <summary>Anthropic's error shape with the expected status and type; its message.</summary>
    public static async Task<string> AnthropicErrorAsync(HttpResponseMessage response, HttpStatusCode status, string type)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"expected {status}, got {response.StatusCode}: {text}");
        var json = JsonNode.Parse(text)!.AsObject();
        Assert.Equal("error", json["type"]!.GetValue<string>());
        Assert.Equal(type, json["error"]!["type"]!.GetValue<string>());
        return json["error"]!["message"]!.GetValue<string>();
    }
}
