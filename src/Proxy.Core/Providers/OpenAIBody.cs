using System.Buffers;
using Proxy.Core.Forwarding;

namespace Proxy.Core.Providers;

/// <summary>The client's body as is, but for <c>model</c> (and the gateway's routing fields).</summary>
internal static class OpenAIBody
{
    public static int Write(in ModelField field, ReadOnlySpan<byte> clientBody, string upstreamName, ref byte[] buffer)
    {
        var needed = ModelField.MaxRewrittenLength(clientBody.Length, upstreamName);
        if (buffer.Length < needed)
        {
            ArrayPool<byte>.Shared.Return(buffer);
            buffer = ArrayPool<byte>.Shared.Rent(needed);
        }
        return field.Rewrite(clientBody, upstreamName, buffer);
    }
}
