using System.Buffers;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Proxy.Core.Access;
using Proxy.Core.Routing;
using Proxy.Core.Spend;

namespace Proxy.Core.Forwarding;

/// <summary>
/// The hot path of the OpenAI-compatible routes: who is calling (from the snapshot), which deployment the model
/// means for them (from the snapshot), then the <see cref="CallLoop"/>'s attempts with only <c>model</c> rewritten. No database.
/// </summary>
public sealed class LlmProxy(CallerResolver callers, ModelCatalog catalog, Router router, SpendControl spend, CallLoop loop, CallAccounting accounting)
{
    public async Task ForwardAsync(HttpContext http, LlmRoute route, string? modelFromPath = null)
    {
        var started = Stopwatch.GetTimestamp();
        Caller? caller = null;
        string? resolved = null;
        accounting.CallStarted();
        try
        {
            caller = callers.FromCall(http);
            Demand.CallModels(caller, "This key is a management key: it cannot call models. Use a default or llm_api key.");
            if (int.TryParse(http.Request.Headers[UpstreamTransformer.HopHeader], out var hops) && hops >= UpstreamTransformer.MaxHops)
            {
                throw new ProxyError(508, "upstream_error", $"This call has passed {hops} gateways: a model's api_base leads back to a gateway. Fix the model's api_base.");
            }
            using var allowance = spend.Admit(caller);
            allowance.AnnounceOn(http.Response);

            var (buffer, length) = await ReadBodyAsync(http);
            byte[]? body = null;
            try
            {
                // A form route (audio/transcriptions) names its model in a form field; the others in JSON.
                var form = route.IsForm ? await FormModel.FindAsync(route.Operation, http.Request.ContentType, buffer, length, http.RequestAborted) : null;
                var field = form is null ? ModelField.Find(buffer.AsSpan(0, length)) : default;
                if (route.RequiredFields.Count > 0)
                {
                    RequireFields(route, buffer.AsSpan(0, length), modelFromPath is null);
                }
                var requested = modelFromPath ?? (form is null ? field.Value : form.Value)
                    ?? throw ProxyError.BadRequest(form is null
                        ? "model is required, e.g. \"model\": \"my-team-model\"."
                        : "model is required: add a form field named \"model\" with a public model name your key may call.", "model");
                // From here on the call is about the model an alias names: routing, fallbacks, usage and metrics.
                var model = ModelCatalog.Unalias(caller, requested);
                // Another team's model is refused exactly as one that does not exist, in the route's dialect.
                var group = catalog.Resolve(caller, model) ?? throw (route.Dialect == ApiDialect.Anthropic ? UnknownModel(requested) : InvalidModel(requested, "model"));
                resolved = model;
                var policy = router.PolicyFor(caller.Team);
                var plan = CallPlan.For(caller, model, field.Options, policy, catalog, InvalidModel);
                var call = new Call(http, route, caller, allowance, field, buffer, length, started, model, http.TraceIdentifier, form);
                try
                {
                    await loop.RouteAsync(call, model, group, plan, policy);
                }
                finally
                {
                    body = call.Body;
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
                if (body is not null)
                {
                    ArrayPool<byte>.Shared.Return(body);
                }
            }
        }
        catch (ProxyError refused) when (Refused(refused, caller, resolved, started))
        {
            // Never reached: the filter counts the refusal and lets it go on to the error envelope.
        }
        finally
        {
            accounting.CallEnded();
        }
    }

    private bool Refused(ProxyError refused, Caller? caller, string? model, long started)
    {
        accounting.Refused(caller, model, refused, started);
        return false;
    }

    internal static ProxyError InvalidModel(string model, string param) =>
        ProxyError.BadRequest($"Invalid model name passed in {param}={model}. Call /v1/models to view available models for your key.", param);

    /// <summary>As Anthropic answers a model it does not know: 404 not_found_error naming the model.</summary>
    private static ProxyError UnknownModel(string model) =>
        ProxyError.NotFound($"model: {model}. It is not a model this key may call: call /v1/models to view available models for your key.", "model");

    /// <summary>
    /// The route's required top-level fields (and <c>model</c>) are present: presence only, one pass of the reader
    /// over names, skipping values. The provider checks the rest, in its own words.
    /// </summary>
    private static void RequireFields(LlmRoute route, ReadOnlySpan<byte> body, bool needsModel)
    {
        Span<bool> seen = stackalloc bool[route.RequiredFields.Count];
        var reader = new Utf8JsonReader(body, new JsonReaderOptions { MaxDepth = 128 });
        reader.Read();
        var hasModel = false;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            hasModel |= reader.ValueTextEquals("model"u8);
            for (var i = 0; i < seen.Length; i++)
            {
                seen[i] |= reader.ValueTextEquals(route.RequiredFields[i]);
            }
            reader.Read();
            reader.Skip();
        }
        if (needsModel && !hasModel)
        {
            throw ProxyError.BadRequest("model: Field required", "model");
        }
        for (var i = 0; i < seen.Length; i++)
        {
            if (!seen[i])
            {
                throw ProxyError.BadRequest($"{route.RequiredFields[i]}: Field required", route.RequiredFields[i]);
            }
        }
    }

    /// <summary>The request body in a pooled buffer; a ValueTask, as Kestrel usually has a small body at hand already.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private static async ValueTask<(byte[] Buffer, int Length)> ReadBodyAsync(HttpContext http)
    {
        var length = 0;
        var buffer = ArrayPool<byte>.Shared.Rent(http.Request.ContentLength is > 0 and < 1024 * 1024 ? (int)http.Request.ContentLength + 1 : 16 * 1024);
        try
        {
            int read;
            while ((read = await http.Request.Body.ReadAsync(buffer.AsMemory(length), http.RequestAborted)) > 0)
            {
                length += read;
                if (length == buffer.Length)
                {
                    var larger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                    buffer.AsSpan(0, length).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }
            }
            return (buffer, length);
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
    }
}
