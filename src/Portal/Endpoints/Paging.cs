using System.Globalization;
using Proxy.Core;

namespace Portal.Endpoints;

/// <summary>page/size query parameters, read as text so a wrong value gets a message that names it.</summary>
public static class Paging
{
    public const int MaxSize = 100;

    public static (int Page, int Size) Validate(string? page, string? size) =>
        (Number(page, "page", 1, 1, int.MaxValue), Number(size, "size", 50, 1, MaxSize));

    /// <summary>A whole-number query parameter from <paramref name="min"/> to <paramref name="max"/>; <paramref name="fallback"/> when absent; a 400 naming it otherwise.</summary>
    public static int Number(string? text, string param, int fallback, int min, int max)
    {
        if (string.IsNullOrEmpty(text))
        {
            return fallback;
        }
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value < min || value > max)
        {
            throw ProxyError.BadRequest($"{param} must be a whole number from {min} to {max}, not '{text}'.", param);
        }
        return value;
    }
}
