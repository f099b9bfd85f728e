using System.Text;
using System.Text.Json.Nodes;
using Proxy.Core;
using Proxy.Core.Forwarding;

namespace Portal.Tests.Routing;

/// <summary>LiteLLM's routing fields are the gateway's: read from the body, and every other byte passes as sent.</summary>
public sealed class RoutingFieldsTests
{
    public static TheoryData<string, string> Bodies => new()
    {
        { """{"model":"m","fallbacks":["b"],"x":1}""", """{"model":"up","x":1}""" },
        { """{"fallbacks":["b"],"model":"m"}""", """{"model":"up"}""" },
        { """{"model":"m", "num_retries": 2}""", """{"model":"up"}""" },
        { """{"a":1, "num_retries":1, "fallbacks":["b"], "context_window_fallbacks":["c"]}""", """{"model":"up","a":1}""" },
        { """{"a":1, "num_retries":1, "b":2, "fallbacks":[], "model":"m"}""", """{"a":1, "b":2, "model":"up"}""" },
        { """{ "num_retries" : 0 , "model" : "m" , "messages" : [] }""", """{ "model" : "up" , "messages" : [] }""" },
        { """{"model":"m","messages":[{"fallbacks":["nested stays"]}]}""", """{"model":"up","messages":[{"fallbacks":["nested stays"]}]}""" },
    };

    [Theory]
    [MemberData(nameof(Bodies))]
    public void RoutingFields_AreLeftOut_EverythingElseIsKept(string body, string expected)
    {
        var bytes = Encoding.UTF8.GetBytes(body);
        var field = ModelField.Find(bytes);
        var destination = new byte[ModelField.MaxRewrittenLength(bytes.Length, "up")];

        var written = field.Rewrite(bytes, "up", destination);

        var rewritten = Encoding.UTF8.GetString(destination, 0, written);
        Assert.Equal(expected, rewritten);
        Assert.NotNull(JsonNode.Parse(rewritten));
    }

    [Fact]
    public void RoutingFields_AreRead()
    {
        var field = ModelField.Find("""{"model":"m","num_retries":3,"fallbacks":["a","b"],"context_window_fallbacks":["c"]}"""u8);

        Assert.Equal(3, field.Options!.NumRetries);
        Assert.Equal(["a", "b"], field.Options.Fallbacks);
        Assert.Equal(["c"], field.Options.ContextWindowFallbacks);
        Assert.Null(ModelField.Find("""{"model":"m"}"""u8).Options);
    }

    [Theory]
    [InlineData("""{"model":"m","num_retries":11}""", "num_retries")]
    [InlineData("""{"model":"m","num_retries":"2"}""", "num_retries")]
    [InlineData("""{"model":"m","fallbacks":"b"}""", "fallbacks")]
    [InlineData("""{"model":"m","fallbacks":[1]}""", "fallbacks")]
    [InlineData("""{"model":"m","fallbacks":["a","b","c","d","e","f"]}""", "fallbacks")]
    [InlineData("""{"model":"m","context_window_fallbacks":{}}""", "context_window_fallbacks")]
    public void AWrongRoutingField_IsA400NamingIt(string body, string param)
    {
        var error = Assert.Throws<ProxyError>(() => ModelField.Find(Encoding.UTF8.GetBytes(body)));

        Assert.Equal(400, error.Status);
        Assert.Equal(param, error.Param);
    }
}
