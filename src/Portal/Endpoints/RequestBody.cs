using System.Buffers;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using Proxy.Core;

namespace Portal.Endpoints;

/// <summary>
/// Reads a management request's JSON body with a size limit, and its fields with their types checked, so a wrong
/// body gets a 4xx that names the field instead of ASP.NET's own answer or a 500.
/// </summary>
public static class RequestBody
{
    public const int MaxBytes = 1024 * 1024;

    private static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = 32, AllowDuplicateProperties = false };

    public static async Task<JsonObject> ReadAsync(HttpContext http)
    {
        var request = http.Request;
        if (request.ContentLength > MaxBytes)
        {
            throw TooLarge();
        }
        var buffer = new ArrayBufferWriter<byte>();
        while (true)
        {
            var span = buffer.GetMemory(16 * 1024);
            var read = await request.Body.ReadAsync(span, http.RequestAborted);
            if (read == 0)
            {
                break;
            }
            buffer.Advance(read);
            if (buffer.WrittenCount > MaxBytes)
            {
                throw TooLarge();
            }
        }
        if (buffer.WrittenCount == 0)
        {
            throw ProxyError.BadRequest("Request body is empty: send a JSON object.");
        }
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(buffer.WrittenSpan, documentOptions: DocumentOptions);
        }
        catch (Exception e) when (e is JsonException or ArgumentException)
        {
            var contentType = request.ContentType;
            if (contentType is not null && !contentType.Contains("json", StringComparison.OrdinalIgnoreCase)
                && !contentType.StartsWith("application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase)
                && !contentType.StartsWith("text/plain", StringComparison.OrdinalIgnoreCase))
            {
                throw new ProxyError(415, "invalid_request_error", $"Content-Type '{contentType}' is not supported: send a JSON body with Content-Type: application/json.");
            }
            throw ProxyError.BadRequest($"Request body is not valid JSON: {Describe(e)}");
        }
        var body = node as JsonObject ?? throw ProxyError.BadRequest("Request body must be a JSON object ({...}).");
        var reading = new Reading((http.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? http.Request.Path.Value ?? "this route");
        Readings.AddOrUpdate(body, reading);
        http.Items[typeof(Reading)] = reading;
        return body;
    }

    private static string Describe(Exception e) => e switch
    {
        JsonException j when j.Message.Contains("depth", StringComparison.OrdinalIgnoreCase) => $"it is nested too deeply (at most {DocumentOptions.MaxDepth} levels).",
        JsonException { LineNumber: { } line, BytePositionInLine: { } pos } j when j.Message.Contains("duplicate", StringComparison.OrdinalIgnoreCase)
            => $"a property appears twice (line {line + 1}, position {pos}).",
        JsonException { LineNumber: { } line, BytePositionInLine: { } pos } => $"syntax error at line {line + 1}, position {pos}.",
        _ => "a property appears twice.",
    };

    private static ProxyError TooLarge() =>
        new(413, "invalid_request_error", $"Request body is too large: management requests are limited to {MaxBytes / 1024} KiB.");

    public static string? String(this JsonObject body, string name, string? param = null) => body.Field(name) switch
    {
        null => null,
        JsonValue v when v.GetValueKind() == JsonValueKind.String => Text(v, param ?? name),
        var other => throw WrongType(param ?? name, "a string", other),
    };

    /// <summary>The string value, or a 400 when it is not valid Unicode (invalid UTF-8 bytes, a lone surrogate escape).</summary>
    private static string Text(JsonValue value, string param)
    {
        try
        {
            return value.GetValue<string>();
        }
        catch (InvalidOperationException)
        {
            throw ProxyError.BadRequest($"{param} is not valid Unicode text (invalid UTF-8 or a lone surrogate).", param);
        }
    }

    public static double? Number(this JsonObject body, string name, string? param = null) => body.Field(name) switch
    {
        null => null,
        JsonValue v when v.GetValueKind() == JsonValueKind.Number && v.TryGetValue<double>(out var d) && double.IsFinite(d) => d,
        var other => throw WrongType(param ?? name, "a number", other),
    };

    public static long? Integer(this JsonObject body, string name) => body.Field(name) switch
    {
        null => null,
        JsonValue v when v.GetValueKind() == JsonValueKind.Number && v.TryGetValue<long>(out var l) => l,
        var other => throw WrongType(name, "an integer", other),
    };

    public static bool? Bool(this JsonObject body, string name) => body.Field(name) switch
    {
        null => null,
        JsonValue v when v.GetValueKind() is JsonValueKind.True or JsonValueKind.False => v.GetValue<bool>(),
        var other => throw WrongType(name, "true or false", other),
    };

    public static List<string>? Strings(this JsonObject body, string name) => body.Field(name) switch
    {
        null => null,
        JsonArray a => a.Select(item => item is JsonValue v && v.GetValueKind() == JsonValueKind.String
            ? Text(v, name)
            : throw WrongType(name, "a list of strings", a)).ToList(),
        var other => throw WrongType(name, "a list of strings", other),
    };

    public static JsonObject? Object(this JsonObject body, string name, string? param = null) => body.Field(name) switch
    {
        null => null,
        JsonObject o => o,
        var other => throw WrongType(param ?? name, "a JSON object", other),
    };

    /// <summary>
    /// A field of a partial update read with <paramref name="read"/>: not given when absent, given (and null, meaning
    /// "remove") when the request says <c>null</c>.
    /// </summary>
    public static Optional<T> Given<T>(this JsonObject body, string name, Func<JsonObject, string, T> read) =>
        body.Field(name) is not null || body.ContainsKey(name) ? new Optional<T>(read(body, name)) : default;

    /// <summary>LiteLLM fields this gateway does not act on: a 400 that says so, rather than a setting stored and ignored.</summary>
    public static void Refuse(this JsonObject body, string where, params string[] fields)
    {
        foreach (var field in fields)
        {
            if (body[field] is not null)
            {
                throw ProxyError.BadRequest($"{field} is not supported {where} by this gateway. " + where switch
                {
                    "on keys" => "Keys take max_budget, soft_budget, budget_duration, rpm_limit, tpm_limit and max_parallel_requests.",
                    "on teams" => "Teams take max_budget, soft_budget, budget_duration, rpm_limit and tpm_limit.",
                    "on team members" => "Members take role and max_budget_in_team.",
                    _ => "Users take user_role, models, max_budget, budget_duration, tpm_limit and rpm_limit (and team_id on /user/new); add them to teams with /team/member_add.",
                }, field);
            }
        }
    }

    /// <summary>
    /// The strict-body rule of docs/api.md section 2: every field the handler did not read from this body (or nested
    /// object) is refused with a 400 naming it, so a setting is never stored and ignored. The handler's reads are the
    /// declaration of what the route takes: call this once, after the last read and before acting on the body. A JSON
    /// null is accepted for a field LiteLLM defines on the route (it sets nothing); an unknown name is refused even then.
    /// </summary>
    /// <param name="prefix">For a nested object, the name it is reported under (<c>member</c>: <c>member.x</c>).</param>
    /// <param name="where">For a nested object, what it is (<c>a team member</c>); the route for a body.</param>
    public static void RefuseUnread(this JsonObject body, string? prefix = null, string? where = null)
    {
        var reading = Readings.GetOrCreateValue(body);
        reading.Finished = true;
        where ??= reading.Route ?? "this object";
        foreach (var (name, value) in body)
        {
            if (reading.Read.Contains(name))
            {
                continue;
            }
            var param = prefix is null ? name : $"{prefix}.{name}";
            var liteLlm = prefix is null ? LiteLlmFields.Of(where) : LiteLlmFields.Of(prefix);
            if (value is null && liteLlm.Contains(name))
            {
                continue;
            }
            var takes = $" {Capital(where)} takes {string.Join(", ", reading.Read.Order(StringComparer.Ordinal))}.";
            throw ProxyError.BadRequest(liteLlm.Contains(name)
                ? $"{param} is not supported on {where} by this gateway: it is refused rather than stored and ignored.{takes}{LiteLlmFields.Hint(name)}"
                : $"{param} is not a field of {where}.{takes}", param);
        }
    }

    /// <summary>A field's raw value, counted as read (for the fields a handler takes apart itself, such as <c>member</c>).</summary>
    public static JsonNode? Node(this JsonObject body, string name) => body.Field(name);

    /// <summary>
    /// The management group's check after a handler: one that read a body must have called <see cref="RefuseUnread"/>.
    /// A programming error (the body's unread fields were never refused), which every test of the route reveals.
    /// </summary>
    internal static void DemandFinished(HttpContext http)
    {
        if (http.Items[typeof(Reading)] is Reading { Finished: false } reading)
        {
            throw new InvalidOperationException($"The handler of {reading.Route} read its body without calling RefuseUnread.");
        }
    }

    private static JsonNode? Field(this JsonObject body, string name)
    {
        var reading = Readings.GetOrCreateValue(body);
        if (reading.Finished && !reading.Read.Contains(name))
        {
            // A read after the check would take a field the check refused: move the read above RefuseUnread.
            throw new InvalidOperationException($"{name} was read from the body of {reading.Route ?? "a request"} after RefuseUnread: read it before.");
        }
        reading.Read.Add(name);
        return body[name];
    }

    private static string Capital(string where) => where.StartsWith('/') ? where : char.ToUpperInvariant(where[0]) + where[1..];

    /// <summary>What a handler read from one body or nested object.</summary>
    private sealed class Reading(string? route)
    {
        public Reading()
            : this(null)
        {
        }

        public string? Route { get; } = route;
        public HashSet<string> Read { get; } = new(StringComparer.Ordinal);
        public bool Finished { get; set; }
    }

    private static readonly ConditionalWeakTable<JsonObject, Reading> Readings = new();

    /// <summary>A whole number that fits an int; a negative one is the service's to refuse (LimitRules), as it says the same to the portal.</summary>
    public static int? Int32(this JsonObject body, string name) => body.Integer(name) switch
    {
        null => null,
        var n when n is >= int.MinValue and <= int.MaxValue => (int)n,
        _ => throw ProxyError.BadRequest($"{name} must be a whole number from 0 to {int.MaxValue}.", name),
    };

    /// <summary>A JSON object field kept as text (metadata and other free-form fields).</summary>
    public static string? ObjectText(this JsonObject body, string name) => body.Object(name)?.ToJsonString();

    private static ProxyError WrongType(string param, string expected, JsonNode? actual) =>
        ProxyError.BadRequest($"{param} must be {expected}, not {Kind(actual)}.", param);

    private static string Kind(JsonNode? node) => node switch
    {
        null => "null",
        JsonObject => "an object",
        JsonArray => "a list",
        JsonValue v => v.GetValueKind() switch
        {
            JsonValueKind.String => "a string",
            JsonValueKind.Number => "a number",
            JsonValueKind.True or JsonValueKind.False => "a boolean",
            _ => "null",
        },
        _ => "something else",
    };
}
