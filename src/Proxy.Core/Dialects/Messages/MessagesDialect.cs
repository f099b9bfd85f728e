using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Proxy.Core.Forwarding;
using Proxy.Core.Providers;

namespace Proxy.Core.Dialects.Messages;

/// <summary>Anthropic's Messages API spoken to an OpenAI-shaped deployment (docs/coding-tools.md lists what is translated, dropped and refused).</summary>
internal sealed class MessagesDialect : IInboundDialect
{
    public static readonly MessagesDialect Instance = new();

    public bool WriteChat(JsonElement request, string model, Utf8JsonWriter w) => MessagesRequest.WriteChat(request, model, w);

    public AnswerTranslator Answer(Stream toClient, HttpResponse response) => new MessagesAnswer(toClient, response);

    public HeldBackAnswer ForClient(HeldBackAnswer openAIShaped) =>
        new(openAIShaped.Status, "application/json", MessagesError.FromOpenAI(openAIShaped.Status, openAIShaped.Body));
}
