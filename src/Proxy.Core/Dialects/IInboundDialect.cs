using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Proxy.Core.Forwarding;
using Proxy.Core.Providers;

namespace Proxy.Core.Dialects;

/// <summary>
/// A caller's API that a deployment does not speak (Anthropic's Messages to an OpenAI-shaped model, OpenAI's Responses to
/// a chat-only one), spoken to it through chat completions: the pivot. The caller's request becomes a chat completions
/// request, which the deployment's own <see cref="IProviderApi"/> sends as it would a chat call, and the chat answer
/// comes back in the caller's shape. So N inbound dialects and M provider dialects need N + M translators, not N × M
/// (docs/architecture.md, "Dialects and the pivot").
/// </summary>
internal interface IInboundDialect
{
    /// <summary>Writes the chat completions request for the caller's <paramref name="request"/>; returns whether it is streamed.</summary>
    bool WriteChat(JsonElement request, string model, Utf8JsonWriter w);

    /// <summary>The stream a chat completions answer (JSON or SSE, an error included) is written into so that <paramref name="toClient"/> gets the caller's shape.</summary>
    AnswerTranslator Answer(Stream toClient, HttpResponse response);

    /// <summary>A provider error held back for a retry, already in OpenAI's shape, as the caller gets it.</summary>
    HeldBackAnswer ForClient(HeldBackAnswer openAIShaped);

    /// <summary>
    /// How a call on <paramref name="route"/> reaches a deployment speaking <paramref name="api"/>: null when it goes
    /// as it is (the deployment serves the route), else the route's dialect through chat completions, when both have one.
    /// </summary>
    static IInboundDialect? Between(LlmRoute route, IProviderApi api) =>
        !api.Serves(route) && route.Inbound is { } inbound && api.Serves(LlmRoute.ChatCompletions) ? inbound : null;
}
