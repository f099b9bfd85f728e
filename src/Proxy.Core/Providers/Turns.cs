using System.Text.Json;

namespace Proxy.Core.Providers;

/// <summary>
/// A translated conversation's turns as they are written: consecutive chat messages that become the same provider role
/// share one turn (a tool's results and the user's next words), as Anthropic, Bedrock and Gemini require roles to alternate.
/// </summary>
/// <param name="parts">The name of a turn's array of parts (<c>content</c>, Gemini's <c>parts</c>).</param>
internal ref struct Turns(Utf8JsonWriter w, string parts)
{
    private string? _open;

    /// <summary>Whether a turn has been written.</summary>
    public bool Any { get; private set; }

    /// <summary>The next message's parts go in a turn of <paramref name="role"/>: the open one, or a new one.</summary>
    public void Join(string role)
    {
        if (role == _open)
        {
            return;
        }
        Close();
        w.WriteStartObject();
        w.WriteString("role", role);
        w.WriteStartArray(parts);
        _open = role;
        Any = true;
    }

    /// <summary>Ends the open turn, if any.</summary>
    public void Close()
    {
        if (_open is not null)
        {
            w.WriteEndArray();
            w.WriteEndObject();
            _open = null;
        }
    }
}
