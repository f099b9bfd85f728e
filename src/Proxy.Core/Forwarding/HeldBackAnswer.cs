using Microsoft.AspNetCore.Http;

namespace Proxy.Core.Forwarding;

/// <summary>A provider's answer kept instead of sent, to be sent after all when no other attempt succeeds.</summary>
/// <param name="ErrorType">The kind of error a provider names in a header rather than the body (AWS's <c>x-amzn-ErrorType</c>).</param>
public sealed record HeldBackAnswer(int Status, string? ContentType, byte[] Body, string? ErrorType = null)
{
    /// <param name="status">The status the client would get (the dialect's, e.g. Anthropic's 529 as 503).</param>
    public static async Task<HeldBackAnswer> ReadAsync(HttpResponseMessage response, int status, int maxBytes, CancellationToken ct)
    {
        var length = response.Content.Headers.ContentLength;
        var body = length is null || length <= maxBytes ? await ReadBoundedAsync(response.Content, maxBytes, ct) : [];
        var errorType = response.Headers.TryGetValues("x-amzn-ErrorType", out var types) ? types.FirstOrDefault() : null;
        return new HeldBackAnswer(status, response.Content.Headers.ContentType?.ToString(), body, errorType);
    }

    private static async Task<byte[]> ReadBoundedAsync(HttpContent content, int maxBytes, CancellationToken ct)
    {
        await using var stream = await content.ReadAsStreamAsync(ct);
        using var copy = new MemoryStream();
        var buffer = new byte[16 * 1024];
        int read;
        while ((read = await stream.ReadAsync(buffer, ct)) > 0 && copy.Length < maxBytes)
        {
            copy.Write(buffer, 0, (int)Math.Min(read, maxBytes - copy.Length));
        }
        return copy.ToArray();
    }

    /// <summary>Sends it to the client as the provider gave it, with the gateway's headers.</summary>
    public async Task WriteAsync(HttpResponse response, CancellationToken ct)
    {
        response.StatusCode = Status;
        response.ContentType = ContentType;
        response.ContentLength = Body.Length;
        await response.Body.WriteAsync(Body, ct);
    }
}
