using System.Text;

namespace Portal.Components.Pages.Teams;

/// <summary>One line of the playground's conversation: a turn of the user or the model, or the gateway's refusal.</summary>
public sealed class ChatLine(string role)
{
    public const string User = "user";
    public const string Assistant = "assistant";
    public const string Refusal = "error";

    public string Role { get; } = role;

    /// <summary>Grows as the answer streams in.</summary>
    public StringBuilder Text { get; } = new();

    /// <summary>The model that answered (for an answer): the picker may have changed since.</summary>
    public string? Model { get; init; }

    /// <summary>The Stop button ended the answer before the provider did.</summary>
    public bool Stopped { get; set; }

    public static ChatLine Of(string role, string text)
    {
        var line = new ChatLine(role);
        line.Text.Append(text);
        return line;
    }
}
