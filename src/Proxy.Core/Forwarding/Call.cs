using System.Buffers;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Proxy.Core.Access;
using Proxy.Core.Dialects;
using Proxy.Core.Providers;
using Proxy.Core.Routing;
using Proxy.Core.Spend;

namespace Proxy.Core.Forwarding;

/// <summary>
/// One LLM call as the forwarder carries it across its attempts: the client's request and body, and its count of
/// attempts. A form route's body (<paramref name="form"/>) has its model in a form field rather than in JSON.
/// </summary>
internal sealed class Call(
    HttpContext http, LlmRoute route, Caller caller, CallAllowance allowance, ModelField modelField, byte[] original, int length, long started, string model, string callId,
    FormModel? form = null)
{
    public HttpContext Http => http;
    public LlmRoute Route => route;
    public Caller Caller => caller;
    public CallAllowance Allowance => allowance;
    public ModelField Field => modelField;
    public long Started => started;
    public string CallId => callId;

    /// <summary>The public model name the caller asked for (a fallback may answer it).</summary>
    public string Model => model;

    /// <summary>The body as the client sent it.</summary>
    public ReadOnlyMemory<byte> ClientBody => original.AsMemory(0, length);

    /// <summary>The body as the current attempt's provider gets it, in a pooled buffer the caller returns.</summary>
    public byte[]? Body { get; private set; }

    public int Attempts { get; set; }

    /// <summary>What the current attempt sends, in <see cref="Body"/>: the client's body in the deployment's dialect.</summary>
    public UpstreamBody RewriteFor(DeploymentEntry deployment)
    {
        var buffer = Body ?? ArrayPool<byte>.Shared.Rent(ModelField.MaxRewrittenLength(length, deployment.UpstreamModel));
        try
        {
            if (form is not null)
            {
                // Only OpenAI-shaped dialects serve a form route (IProviderApi.Serves): the form passes as sent but for model.
                return new UpstreamBody(form.Write(original.AsSpan(0, length), deployment.UpstreamModel, ref buffer));
            }
            if (IInboundDialect.Between(route, deployment.Api) is { } inbound)
            {
                return ThroughChat(inbound, deployment, ref buffer);
            }
            return deployment.Api.WriteBody(route, modelField, ClientBody, deployment.UpstreamModel, ref buffer);
        }
        finally
        {
            Body = buffer;
        }
    }

    /// <summary>
    /// The caller's body as a chat completions request (the pivot), then as the deployment's dialect writes a chat call.
    /// Written for each attempt, as the model name differs between deployments.
    /// </summary>
    private UpstreamBody ThroughChat(IInboundDialect inbound, DeploymentEntry deployment, ref byte[] buffer)
    {
        using var request = JsonDocument.Parse(ClientBody);
        using var chat = new PooledBuffer(length + 512);
        using (var writer = new Utf8JsonWriter(chat, WireJson.Options))
        {
            inbound.WriteChat(request.RootElement, deployment.UpstreamModel, writer);
        }
        return deployment.Api.WriteBody(LlmRoute.ChatCompletions, ModelField.Find(chat.Written), chat.WrittenMemory, deployment.UpstreamModel, ref buffer);
    }
}
