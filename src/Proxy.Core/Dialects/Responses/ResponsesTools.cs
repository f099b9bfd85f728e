using System.Text.Json;

namespace Proxy.Core.Dialects.Responses;

/// <summary>
/// A Responses request's <c>tools</c>, <c>tool_choice</c> and <c>parallel_tool_calls</c> as chat completions takes them.
/// Function tools are chat function tools (without <c>strict</c>, which Anthropic's translation has no place for).
/// Two kinds of tool are left out, as Codex CLI sends them on every call: <c>web_search</c>, which OpenAI runs on its
/// side and a chat provider cannot, and <c>namespace</c> groups, whose calls must name their namespace when they come
/// back (Codex refuses a call without it) while a chat answer carries a name alone. The model is then simply not offered
/// them, and never answers with a call the client cannot take. Any other kind is refused, named.
/// </summary>
internal static class ResponsesTools
{
    private static readonly HashSet<string> LeftOut = ["web_search", "web_search_preview", "namespace"];

    public static void Write(JsonElement request, Utf8JsonWriter w)
    {
        var offered = 0;
        if (request.TryGetProperty("tools", out var tools) && tools.ValueKind == JsonValueKind.Array)
        {
            var i = 0;
            foreach (var tool in tools.EnumerateArray())
            {
                var param = $"tools[{i++}]";
                var type = tool.ValueKind == JsonValueKind.Object && tool.TryGetProperty("type", out var t) ? t.GetString() : null;
                if (type is not null && LeftOut.Contains(type))
                {
                    continue;
                }
                if (type != "function")
                {
                    throw ProxyError.BadRequest($"{param}.type '{type}' is not supported for this model: it takes function tools.", $"{param}.type");
                }
                if (offered++ == 0)
                {
                    w.WriteStartArray("tools");
                }
                WriteFunction(tool, param, w);
            }
            if (offered > 0)
            {
                w.WriteEndArray();
            }
        }
        // Without tools a chat API refuses tool_choice and parallel_tool_calls.
        if (offered == 0)
        {
            if (request.TryGetProperty("tool_choice", out var forced) && forced.ValueKind == JsonValueKind.Object)
            {
                throw ProxyError.BadRequest("tool_choice names a tool this model is not offered.", "tool_choice");
            }
            return;
        }
        if (request.TryGetProperty("tool_choice", out var choice) && choice.ValueKind != JsonValueKind.Null)
        {
            WriteChoice(choice, w);
        }
        if (request.TryGetProperty("parallel_tool_calls", out var parallel) && parallel.ValueKind is JsonValueKind.True or JsonValueKind.False)
        {
            w.WriteBoolean("parallel_tool_calls", parallel.GetBoolean());
        }
    }

    private static void WriteFunction(JsonElement tool, string param, Utf8JsonWriter w)
    {
        w.WriteStartObject();
        w.WriteString("type", "function");
        w.WriteStartObject("function");
        w.WriteString("name", tool.TryGetProperty("name", out var name) && name.ValueKind == JsonValueKind.String ? name.GetString()
            : throw ProxyError.BadRequest($"{param}.name is required.", $"{param}.name"));
        if (tool.TryGetProperty("description", out var description) && description.ValueKind == JsonValueKind.String)
        {
            w.WriteString("description", description.GetString());
        }
        if (tool.TryGetProperty("parameters", out var parameters) && parameters.ValueKind == JsonValueKind.Object)
        {
            w.WritePropertyName("parameters");
            parameters.WriteTo(w);
        }
        w.WriteEndObject();
        w.WriteEndObject();
    }

    private static void WriteChoice(JsonElement choice, Utf8JsonWriter w)
    {
        switch (choice.ValueKind)
        {
            case JsonValueKind.String when choice.GetString() is "auto" or "none" or "required":
                w.WriteString("tool_choice", choice.GetString());
                break;
            case JsonValueKind.Object when choice.TryGetProperty("type", out var type) && type.GetString() == "function"
                && choice.TryGetProperty("name", out var name) && name.ValueKind == JsonValueKind.String:
                w.WriteStartObject("tool_choice");
                w.WriteString("type", "function");
                w.WriteStartObject("function");
                w.WriteString("name", name.GetString());
                w.WriteEndObject();
                w.WriteEndObject();
                break;
            default:
                throw ProxyError.BadRequest("tool_choice must be \"auto\", \"none\", \"required\" or {\"type\": \"function\", \"name\": ...} for this model.", "tool_choice");
        }
    }
}
