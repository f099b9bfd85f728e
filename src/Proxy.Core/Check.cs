using System.Diagnostics.CodeAnalysis;

namespace Proxy.Core;

/// <summary>Input rules shared by every service; each failure is a 400 naming the field and what to do.</summary>
public static class Check
{
    public static string Required([NotNull] string? value, string param, int maxLength = 256)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            throw ProxyError.BadRequest($"{param} is required.", param);
        }
        return Text(value, param, maxLength)!;
    }

    /// <summary>Trims, and refuses control characters and values over <paramref name="maxLength"/>.</summary>
    [return: NotNullIfNotNull(nameof(value))]
    public static string? Text(string? value, string param, int maxLength = 256)
    {
        if (value is null)
        {
            return null;
        }
        value = value.Trim();
        if (value.Length > maxLength)
        {
            throw ProxyError.BadRequest($"{param} is too long: {value.Length} characters, at most {maxLength} allowed.", param);
        }
        if (value.Any(char.IsControl))
        {
            throw ProxyError.BadRequest($"{param} must not contain control characters.", param);
        }
        return value;
    }

    /// <summary>An id the caller chooses (team_id, user_id): printable, no spaces or slashes, at most 128 characters.</summary>
    public static string Id(string? value, string param)
    {
        var id = Required(value, param, 128);
        if (id.Any(c => char.IsWhiteSpace(c) || c is '/' or '\\' || char.IsControl(c)))
        {
            throw ProxyError.BadRequest($"{param} '{id}' must not contain spaces or slashes.", param);
        }
        return id;
    }

    public static string? Email(string? value, string param)
    {
        var email = Text(value, param);
        if (email is null)
        {
            return null;
        }
        var at = email.IndexOf('@');
        if (at <= 0 || at == email.Length - 1 || email.Any(char.IsWhiteSpace))
        {
            throw ProxyError.BadRequest($"{param} '{email}' is not an email address.", param);
        }
        return email;
    }

    public static T? NotNegative<T>(T? value, string param) where T : struct, IComparable<T>
    {
        if (value is { } v && v.CompareTo(default) < 0)
        {
            throw ProxyError.BadRequest($"{param} must not be negative.", param);
        }
        return value;
    }

    /// <summary><c>30s</c>, <c>30m</c>, <c>30h</c>, <c>30d</c> (and <c>2w</c>): key lifetimes and budget periods.</summary>
    public static TimeSpan Duration(string duration, string param)
    {
        var text = duration.Trim();
        if (text.Length >= 2 && int.TryParse(text[..^1], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) && n > 0 && n <= 36500)
        {
            switch (text[^1])
            {
                case 's': return TimeSpan.FromSeconds(n);
                case 'm': return TimeSpan.FromMinutes(n);
                case 'h': return TimeSpan.FromHours(n);
                case 'd': return TimeSpan.FromDays(n);
                case 'w': return TimeSpan.FromDays(7 * n);
            }
        }
        throw ProxyError.BadRequest($"{param} '{duration}' is not valid: use a number and a unit, e.g. 30s, 30m, 30h or 30d.", param);
    }

    public static List<string>? Names(List<string>? values, string param)
    {
        if (values is null)
        {
            return null;
        }
        if (values.Count > 1000)
        {
            throw ProxyError.BadRequest($"{param} has {values.Count} entries, at most 1000 allowed.", param);
        }
        return values.Select(v => Required(v, param)).Distinct(StringComparer.Ordinal).ToList();
    }
}
