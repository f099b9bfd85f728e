using System.Buffers;
using Microsoft.AspNetCore.Http;
using Proxy.Core.Access;
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

    /// <summary>The body as the current attempt's provider gets it, in a pooled buffer the caller returns.</summary>
    public byte[]? Body { get; private set; }

    public int Attempts { get; set; }

    /// <summary>What the current attempt sends, in <see cref="Body"/>: the client's body in the deployment's dialect.</summary>
    public Providers.UpstreamBody RewriteFor(DeploymentEntry deployment)
    {
        var buffer = Body ?? ArrayPool<byte>.Shared.Rent(ModelField.MaxRewrittenLength(length, deployment.UpstreamModel));
        try
        {
            if (form is not null)
            {
                // Only OpenAI-shaped dialects serve a form route (IProviderApi.Serves): the form passes as sent but for model.
                return new Providers.UpstreamBody(form.Write(original.AsSpan(0, length), deployment.UpstreamModel, ref buffer));
            }
            return deployment.Api.WriteBody(route, modelField, original.AsMemory(0, length), deployment.UpstreamModel, ref buffer);
        }
        finally
        {
            Body = buffer;
        }
    }
}
