using System.Text.Json;

namespace Proxy.Core.Providers;

/// <summary>How every translation writes JSON for a provider or a client.</summary>
internal static class WireJson
{
    /// <summary>Text as UTF-8, as OpenAI and Anthropic send it: the default encoder's \\u escapes are for HTML, not for APIs.</summary>
    public static readonly JsonWriterOptions Options = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
}
