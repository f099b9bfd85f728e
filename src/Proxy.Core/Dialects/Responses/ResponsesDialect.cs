using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Proxy.Core.Forwarding;
using Proxy.Core.Providers;

namespace Proxy.Core.Dialects.Responses;

/// <summary>OpenAI's Responses API spoken to a chat-only deployment (docs/coding-tools.md lists what is translated, dropped and refused).</summary>
internal sealed class ResponsesDialect : IInboundDialect
{
    public static readonly ResponsesDialect Instance = new();

    public bool WriteChat(JsonElement request, string model, Utf8JsonWriter w) => ResponsesRequest.WriteChat(request, model, w);

    public AnswerTranslator Answer(Stream toClient, HttpResponse response) => new ResponsesAnswer(toClient, response);

    /// <summary>Responses errors are OpenAI's envelope, which the provider dialect has already made of it.</summary>
    public HeldBackAnswer ForClient(HeldBackAnswer openAIShaped) => openAIShaped;
}
