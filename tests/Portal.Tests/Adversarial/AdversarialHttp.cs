using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Portal.Tests.Adversarial;

/// <summary>Small helpers shared by the adversarial suites: error-envelope checks and a client that records every exchange.</summary>
internal static class AdversarialHttp
{
    /// <summary>Null when <paramref name="body"/> is the docs/api.md section 2 envelope for <paramref name="status"/>; otherwise what is wrong with it.</summary>
    public static string? EnvelopeProblem(int status, string body, bool anthropic = false)
    {
        JsonObject? error;
        try
        {
            var root = JsonNode.Parse(body);
            if (anthropic && root?["type"]?.GetValue<string>() != "error")
            {
                return $"not Anthropic's error shape (no \"type\": \"error\"): {Excerpt(body)}";
            }
            error = root?["error"] as JsonObject;
        }
        catch (JsonException)
        {
            return $"body is not JSON: {Excerpt(body)}";
        }
        if (error is null)
        {
            return $"no \"error\" object: {Excerpt(body)}";
        }
        if (error["message"] is not JsonValue m || m.GetValueKind() != JsonValueKind.String || string.IsNullOrWhiteSpace(m.GetValue<string>()))
        {
            return "error.message is missing or empty";
        }
        if (m.GetValue<string>().Contains("   at ", StringComparison.Ordinal))
        {
            return "error.message carries a stack trace";
        }
        if (error["type"] is not JsonValue t || t.GetValueKind() != JsonValueKind.String)
        {
            return "error.type is missing";
        }
        if (anthropic)
        {
            // Anthropic's shape (docs/api.md section 2): type and message only.
            return null;
        }
        if (!error.ContainsKey("param"))
        {
            return "error.param is missing (it may be null, but must be there)";
        }
        if (error["code"] is not JsonValue c || c.GetValueKind() != JsonValueKind.String || c.GetValue<string>() != status.ToString(System.Globalization.CultureInfo.InvariantCulture))
        {
            return $"error.code is {error["code"]?.ToJsonString() ?? "missing"}, expected \"{status}\"";
        }
        return null;
    }

    public static string Message(string body) => JsonNode.Parse(body)?["error"]?["message"]?.GetValue<string>() ?? "";

    public static string Excerpt(string text, int max = 240) =>
        text.Length <= max ? text : text[..max] + $"…(+{text.Length - max} chars)";

    public static StringContent Json(string raw, string contentType = "application/json") =>
        new(raw, new MediaTypeHeaderValue(contentType) { CharSet = "utf-8" });

    public static HttpRequestMessage WithKey(this HttpRequestMessage request, string? key)
    {
        if (key is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }
        return request;
    }
}

/// <summary>One request and its response as the client saw them.</summary>
public sealed record Exchange(string Method, string PathAndQuery, int Status, string Headers, string Body);

/// <summary>An HTTP handler that keeps every response's headers and body, so a test can search all of them afterwards.</summary>
public sealed class RecordingHandler() : DelegatingHandler(new SocketsHttpHandler())
{
    public ConcurrentQueue<Exchange> Exchanges { get; } = new();

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = await base.SendAsync(request, cancellationToken);
        await response.Content.LoadIntoBufferAsync(cancellationToken);
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        var headers = string.Join("\n", response.Headers.Concat(response.Content.Headers).Concat(response.TrailingHeaders)
            .Select(h => $"{h.Key}: {string.Join(", ", h.Value)}"));
        Exchanges.Enqueue(new Exchange(request.Method.Method, request.RequestUri!.PathAndQuery, (int)response.StatusCode, headers, body));
        return response;
    }
}
