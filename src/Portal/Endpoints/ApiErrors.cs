using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Routing.Patterns;
using Microsoft.AspNetCore.Routing.Template;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using Proxy.Core;
using Proxy.Core.Dialects.Messages;
using Proxy.Core.Forwarding;
using Proxy.Core.Keys;

namespace Portal.Endpoints;

/// <summary>
/// Every failure on the REST and LLM surfaces leaves as the OpenAI error envelope of docs/api.md section 2, including
/// the ones ASP.NET would otherwise answer in its own shapes (unknown route, wrong method, malformed request).
/// </summary>
public static partial class ApiErrors
{
    public static ErrorEnvelope Envelope(int status, string type, string message, string? param) =>
        new(new ErrorBody(message, type, param, status.ToString(System.Globalization.CultureInfo.InvariantCulture)));

    /// <summary>
    /// The error answer, in the dialect of the route asked (<see cref="LlmRoute.Dialect"/>): OpenAI's envelope, or on
    /// Anthropic's Messages routes Anthropic's <c>{"type":"error","error":{"type","message"}}</c>.
    /// </summary>
    public static Task WriteAsync(HttpContext http, int status, string type, string message, string? param = null)
    {
        http.Response.StatusCode = status;
        return LlmEndpoints.DialectOf(http.Request) == ApiDialect.Anthropic
            ? http.Response.WriteAsJsonAsync(new AnthropicErrorEnvelope("error", new AnthropicError(MessagesError.Type(status), message)))
            : http.Response.WriteAsJsonAsync(Envelope(status, type, message, param));
    }

    public static WebApplication UseApiErrors(this WebApplication app)
    {
        app.UseExceptionHandler(new ExceptionHandlerOptions
        {
            StatusCodeSelector = e => Classify(e).Status,
            // A refused request is an answer, not a server fault: only real faults reach the error log, once, below.
            SuppressDiagnosticsCallback = _ => true,
            ExceptionHandler = http => AnswerAsync(http, http.Features.Get<IExceptionHandlerFeature>()?.Error),
        });
        app.UseStatusCodePages(async context =>
        {
            var http = context.HttpContext;
            if (http.Response.HasStarted || http.Response.ContentLength > 0 || http.Response.ContentType is not null)
            {
                return;
            }
            var status = http.Response.StatusCode;
            if (status == 404 && AllowedMethods(http) is { } allowed)
            {
                // Another surface (the portal's router) answered 404 for a path the API serves with other methods.
                status = http.Response.StatusCode = 405;
                http.Response.Headers.Allow = allowed;
            }
            else if (status == 405 && AllowedMethods(http) is null)
            {
                // Routing answers 405 whenever any GET route could match, and the static assets' catch-all
                // ({**path:file}) could match every path: a path no route serves is a 404, not a wrong method.
                status = http.Response.StatusCode = 404;
                http.Response.Headers.Remove("Allow");
            }
            var (type, message) = status switch
            {
                404 => ("not_found_error", $"Route {http.Request.Method} {ShownPath(http)} does not exist. See /docs for the routes this gateway serves."),
                405 => ("invalid_request_error", $"Method {http.Request.Method} is not allowed on {ShownPath(http)}."),
                413 => ("invalid_request_error", "Request body is too large."),
                415 => ("invalid_request_error", "Unsupported content type: send application/json."),
                401 => ("auth_error", "Authentication required."),
                403 => ("permission_error", "Not allowed."),
                _ => (status >= 500 ? "internal_server_error" : "invalid_request_error", $"Request failed with status {status}."),
            };
            await WriteAsync(http, status, type, message);
        });
        return app;
    }

    /// <summary>
    /// For a branch ahead of <see cref="UseApiErrors"/> (the LLM routes): what it throws gets the envelope the exception
    /// handler would give it. Without a detour through the handler when the task succeeded, which is nearly always.
    /// </summary>
    public static Task Enveloped(HttpContext http, Task task) => task.IsCompletedSuccessfully ? Task.CompletedTask : AwaitEnvelopedAsync(http, task);

    private static async Task AwaitEnvelopedAsync(HttpContext http, Task task)
    {
        try
        {
            await task;
        }
        catch (Exception e) when (!http.Response.HasStarted)
        {
            // As the exception handler does: nothing the failed request had set survives into the error answer.
            http.Response.Clear();
            await AnswerAsync(http, e);
        }
    }

    /// <summary>The error answer to an exception: logged when it is the gateway's fault, then the envelope with its headers.</summary>
    private static Task AnswerAsync(HttpContext http, Exception? exception)
    {
        var error = Classify(exception);
        var log = http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Portal.Errors");
        if (error.Status == 500 && exception is not null)
        {
            LogUnhandled(log, exception, http.TraceIdentifier);
        }
        else if (error.Status >= 500)
        {
            LogUnavailable(log, error.Status, ShownPath(http), exception?.GetType().Name ?? "none");
        }
        foreach (var (name, value) in error.Headers)
        {
            http.Response.Headers[name] = value;
        }
        return WriteAsync(http, error.Status, error.Type, error.Message, error.Param);
    }

    /// <summary>The request path for an error or a log line, a raw key in it (<c>/key/sk-…/regenerate</c>) masked.</summary>
    private static string ShownPath(HttpContext http) =>
        string.Join('/', (http.Request.Path.Value ?? "").Split('/').Select(s => s.StartsWith("sk-", StringComparison.Ordinal) ? KeyMaterial.Mask(s) : s));

    /// <summary>
    /// The methods the routes matching this path serve, if any: tells "wrong method" apart from "no such route". A
    /// catch-all (the static assets' fallback) matches every path and so says nothing about this one.
    /// </summary>
    private static string? AllowedMethods(HttpContext http)
    {
        var path = "/" + http.Request.Path.Value?.Trim('/');
        var methods = http.RequestServices.GetRequiredService<EndpointDataSource>().Endpoints
            .OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.PathSegments is not [{ Parts: [RoutePatternParameterPart { IsCatchAll: true }] }]
                && new TemplateMatcher(new RouteTemplate(e.RoutePattern), []).TryMatch(path, []))
            .SelectMany(e => e.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? [])
            .Distinct()
            .ToList();
        return methods.Count == 0 ? null : string.Join(", ", methods);
    }

    /// <summary>Maps anything thrown to what the caller sees. Unknown exceptions become a 500 without details.</summary>
    public static ProxyError Classify(Exception? e) => e switch
    {
        ProxyError p => p,
        BadHttpRequestException { StatusCode: 413 } => new ProxyError(413, "invalid_request_error", "Request body is too large."),
        BadHttpRequestException b => ProxyError.BadRequest($"Malformed request: {b.Message}"),
        JsonException => ProxyError.BadRequest("Request body is not valid JSON."),
        SqliteException { SqliteErrorCode: 5 or 6 } => ProxyError.Unavailable("The database is busy. Nothing was changed; retry in a moment."),
        NpgsqlException { IsTransient: true } => ProxyError.Unavailable("The database is unavailable. Nothing was changed; retry in a moment."),
        DbUpdateException { InnerException: { } inner } when Classify(inner).Status == 503 => Classify(inner),
        DbUpdateConcurrencyException or DbUpdateException => new ProxyError(409, "invalid_request_error",
            "A concurrent change conflicted with this one. Nothing was changed; retry."),
        InvalidOperationException { InnerException: { } inner } when Classify(inner).Status == 503 => Classify(inner),
        OperationCanceledException => new ProxyError(499, "invalid_request_error", "The request was cancelled."),
        _ => new ProxyError(500, "internal_server_error", "Internal server error. The gateway logged the details."),
    };

    [LoggerMessage(101, LogLevel.Warning, "Answered {Status} to {Path} ({Exception})")]
    private static partial void LogUnavailable(ILogger log, int status, string path, string exception);

    [LoggerMessage(100, LogLevel.Error, "Unhandled error in request {TraceId}")]
    private static partial void LogUnhandled(ILogger log, Exception exception, string traceId);
}

/// <summary>docs/api.md section 2: every error on the REST and LLM surfaces.</summary>
public sealed record ErrorEnvelope(ErrorBody Error);

/// <summary>docs/api.md section 2: an error on Anthropic's Messages routes, in Anthropic's shape.</summary>
public sealed record AnthropicErrorEnvelope(string Type, AnthropicError Error);

public sealed record AnthropicError(string Type, string Message);

public sealed record ErrorBody(
    [property: System.ComponentModel.Description("What went wrong and how to fix it; never a secret.")] string Message,
    [property: System.ComponentModel.Description("auth_error, permission_error, not_found_error, invalid_request_error, budget_exceeded, rate_limit_error, upstream_error or internal_server_error.")] string Type,
    [property: System.ComponentModel.Description("The offending field, or null.")] string? Param,
    [property: System.ComponentModel.Description("The HTTP status, as a string.")] string Code);
