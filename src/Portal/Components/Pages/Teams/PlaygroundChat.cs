using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace Portal.Components.Pages.Teams;

/// <summary>
/// The playground's client: a real HTTP call to this gateway's own <c>/v1/chat/completions</c>, streamed, so routing,
/// budgets, rate limits, usage and spend apply exactly as to any client's call. The key is only ever in the request's
/// Authorization header; nothing here stores or logs it.
/// </summary>
public sealed class PlaygroundChat(HttpClient http, IServer server)
{
    /// <summary>One message of the conversation as the API takes it: <c>user</c> or <c>assistant</c>.</summary>
    public sealed record Turn(string Role, string Content);

    /// <summary>
    /// The answer's text, piece by piece as the provider streams it. An error answer throws a <see cref="GatewayRefusal"/>;
    /// a cancelled <paramref name="ct"/> (the Stop button) ends the call, upstream too.
    /// </summary>
    public async IAsyncEnumerable<string> StreamAsync(string key, string model, string? system, double? temperature, IReadOnlyList<Turn> turns,
        [EnumeratorCancellation] CancellationToken ct)
    {
        var messages = new JsonArray();
        if (!string.IsNullOrWhiteSpace(system))
        {
            messages.Add(new JsonObject { ["role"] = "system", ["content"] = system });
        }
        foreach (var turn in turns)
        {
            messages.Add(new JsonObject { ["role"] = turn.Role, ["content"] = turn.Content });
        }
        var body = new JsonObject { ["model"] = model, ["messages"] = messages, ["stream"] = true };
        if (temperature is { } t)
        {
            body["temperature"] = t;
        }
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(Self(), "v1/chat/completions"))
        {
            Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
        if (!response.IsSuccessStatusCode)
        {
            throw await RefusalAsync(response, ct);
        }
        await using var stream = await response.Content.ReadAsStreamAsync(ct);
        using var reader = new StreamReader(stream);
        while (await reader.ReadLineAsync(ct) is { } line)
        {
            if (!line.StartsWith("data:", StringComparison.Ordinal))
            {
                continue;
            }
            var data = line.AsSpan(5).Trim();
            if (data.SequenceEqual("[DONE]"))
            {
                yield break;
            }
            if (Piece(data.ToString(), (int)response.StatusCode) is { Length: > 0 } piece)
            {
                yield return piece;
            }
        }
    }

    /// <summary>A chunk's text; an error event in the stream (a provider failing mid-answer) throws.</summary>
    private static string? Piece(string data, int status)
    {
        var chunk = JsonNode.Parse(data);
        if (chunk?["error"] is JsonObject error)
        {
            throw GatewayRefusal.Of(status >= 400 ? status : 502, error["type"]?.GetValue<string>(), error["message"]?.GetValue<string>(), null);
        }
        return chunk?["choices"] is JsonArray { Count: > 0 } choices ? choices[0]?["delta"]?["content"]?.GetValue<string>() : null;
    }

    private static async Task<GatewayRefusal> RefusalAsync(HttpResponseMessage response, CancellationToken ct)
    {
        var text = await response.Content.ReadAsStringAsync(ct);
        string? type = null, message = null;
        try
        {
            if (JsonNode.Parse(text)?["error"] is JsonObject error)
            {
                type = error["type"]?.GetValue<string>();
                message = error["message"]?.GetValue<string>();
            }
        }
        catch (JsonException)
        {
            // Not the gateway's envelope: the status says enough.
        }
        return GatewayRefusal.Of((int)response.StatusCode, type, message, response.Headers.RetryAfter?.Delta);
    }

    /// <summary>
    /// This gateway as reached from itself: the address Kestrel listens on (plain http preferred), a wildcard host
    /// read as localhost. Not the browser's address, which may be a load balancer the server cannot reach.
    /// </summary>
    private Uri Self()
    {
        var addresses = server.Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
        var address = addresses.OrderBy(a => a.StartsWith("https:", StringComparison.OrdinalIgnoreCase) ? 1 : 0).FirstOrDefault()
            ?? throw new InvalidOperationException("The gateway listens on no address the playground could call.");
        foreach (var wildcard in new[] { "://+", "://*", "://0.0.0.0", "://[::]" })
        {
            address = address.Replace(wildcard, "://localhost", StringComparison.Ordinal);
        }
        return new Uri(address.TrimEnd('/') + "/");
    }
}
