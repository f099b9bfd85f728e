using System.Buffers;
using System.Text;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;

namespace Proxy.Core.Forwarding;

/// <summary>
/// The <c>model</c> field of a <c>multipart/form-data</c> body (<c>/audio/transcriptions</c>). ASP.NET Core's
/// <see cref="MultipartReader"/> reads the body already read into memory (bounded as every LLM route's) and says where
/// the model part's value lies (<see cref="MultipartSection.BaseStreamOffset"/>); the rewrite then replaces only those
/// bytes, so every other byte (the file part's, its headers, the boundary) reaches the provider as the client sent it.
/// </summary>
internal sealed class FormModel
{
    /// <summary>A model name is short; a longer "model" field is refused rather than read whole.</summary>
    private const int MaxModelBytes = 4096;

    private readonly string _boundary;

    /// <summary>The model value's bytes in the body; without a model part, where a model part is inserted (the first delimiter).</summary>
    private readonly int _start;
    private readonly int _end;

    private FormModel(string? value, string boundary, int start, int end)
    {
        Value = value;
        _boundary = boundary;
        _start = start;
        _end = end;
    }

    /// <summary>The model name, or null when the form has no <c>model</c> field.</summary>
    public string? Value { get; }

    /// <summary>
    /// Reads the form's parts; throws a 400 <see cref="ProxyError"/> when the body is not <c>multipart/form-data</c>, is
    /// malformed, or has <c>model</c> more than once.
    /// </summary>
    public static async Task<FormModel> FindAsync(string operation, string? contentType, byte[] body, int length, CancellationToken cancellationToken)
    {
        if (!MediaTypeHeaderValue.TryParse(contentType, out var media) || !media.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase))
        {
            throw ProxyError.BadRequest(
                $"/{operation} takes a multipart/form-data body (the audio as a file part named \"file\", the model as a field named \"model\"); "
                + $"the request's Content-Type is {(string.IsNullOrEmpty(contentType) ? "missing" : contentType)}.");
        }
        var boundary = HeaderUtilities.RemoveQuotes(media.Boundary).Value;
        if (string.IsNullOrEmpty(boundary) || boundary.Length > 70)
        {
            throw ProxyError.BadRequest("The multipart/form-data Content-Type needs a boundary of 1 to 70 characters (RFC 2046).");
        }
        var reader = new MultipartReader(boundary, new MemoryStream(body, 0, length, writable: false));
        string? value = null;
        int start = 0, end = 0;
        try
        {
            // ReadNextSectionAsync skips what is left of the previous part: the file part is scanned, never copied.
            while (await reader.ReadNextSectionAsync(cancellationToken) is { } section)
            {
                if (!IsModelField(section))
                {
                    continue;
                }
                if (value is not null)
                {
                    // The provider must never see a model we did not resolve.
                    throw ProxyError.BadRequest("model appears more than once in the form.", "model");
                }
                start = (int)section.BaseStreamOffset!.Value;
                var read = await ReadValueAsync(section.Body, cancellationToken);
                end = start + read.Length;
                if (end > length || !body.AsSpan(start, read.Length).SequenceEqual(read))
                {
                    throw new InvalidOperationException("The multipart reader's offset of the model part does not match the body.");
                }
                value = Encoding.UTF8.GetString(read);
            }
        }
        catch (Exception e) when (e is IOException or InvalidDataException)
        {
            throw ProxyError.BadRequest($"The multipart/form-data body is malformed: {e.Message}");
        }
        if (value is null)
        {
            start = end = body.AsSpan(0, length).IndexOf(Encoding.ASCII.GetBytes("--" + boundary));
        }
        return new FormModel(value, boundary, start, end);
    }

    private static bool IsModelField(MultipartSection section) =>
        ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition)
        && disposition.IsFormDisposition()
        && HeaderUtilities.RemoveQuotes(disposition.Name).Equals("model", StringComparison.Ordinal);

    private static async Task<byte[]> ReadValueAsync(Stream part, CancellationToken cancellationToken)
    {
        var buffer = new byte[MaxModelBytes + 1];
        var length = 0;
        int read;
        while (length < buffer.Length && (read = await part.ReadAsync(buffer.AsMemory(length), cancellationToken)) > 0)
        {
            length += read;
        }
        if (length > MaxModelBytes)
        {
            throw ProxyError.BadRequest($"model is longer than {MaxModelBytes} bytes: name a public model your key may call.", "model");
        }
        return buffer[..length];
    }

    /// <summary>
    /// Writes the form with the model value replaced by <paramref name="upstreamName"/> (a model part added before the
    /// first part when the form had none: the Azure-style route names the model in its path) into
    /// <paramref name="buffer"/>, a pooled one replaced when too small; returns the length.
    /// </summary>
    public int Write(ReadOnlySpan<byte> body, string upstreamName, ref byte[] buffer)
    {
        if (upstreamName.AsSpan().IndexOfAny('\r', '\n') >= 0)
        {
            throw ProxyError.BadRequest("The deployment's model name has a line break: it cannot be sent in a form.", "model");
        }
        var inserted = Value is null
            ? $"--{_boundary}\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\n{upstreamName}\r\n"
            : upstreamName;
        var needed = body.Length - (_end - _start) + Encoding.UTF8.GetMaxByteCount(inserted.Length);
        if (buffer.Length < needed)
        {
            ArrayPool<byte>.Shared.Return(buffer);
            buffer = ArrayPool<byte>.Shared.Rent(needed);
        }
        var destination = buffer.AsSpan();
        body[.._start].CopyTo(destination);
        var written = _start + Encoding.UTF8.GetBytes(inserted, destination[_start..]);
        body[_end..].CopyTo(destination[written..]);
        return written + body.Length - _end;
    }
}
