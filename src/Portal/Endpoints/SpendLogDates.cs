using System.Globalization;
using Proxy.Core;

namespace Portal.Endpoints;

/// <summary>
/// <c>/spend/logs</c>' <c>start_date</c> and <c>end_date</c>, as LiteLLM scripts send them: a UTC day (<c>2026-01-31</c>),
/// an ISO 8601 instant, or LiteLLM's <c>2026-01-31 12:00:00</c>. A day as <c>end_date</c> includes the whole day. Anything else is a 400 naming the parameter,
/// never a range silently ignored.
/// </summary>
public static class SpendLogDates
{
    /// <summary>The range as [from, until): from inclusive, until exclusive; null where not given.</summary>
    public static (DateTime? From, DateTime? Until) Range(string? startDate, string? endDate)
    {
        var from = startDate is null ? (DateTime?)null : Parse(startDate, "start_date").At;
        var until = endDate is null ? (DateTime?)null : Parse(endDate, "end_date") switch
        {
            (var day, true) => day.AddDays(1),
            (var instant, false) => instant.AddTicks(1),
        };
        if (from is { } f && until is { } u && f >= u)
        {
            throw ProxyError.BadRequest($"start_date ({startDate}) is after end_date ({endDate}): give a start on or before the end.", "start_date");
        }
        return (from, until);
    }

    private static (DateTime At, bool IsDay) Parse(string value, string param)
    {
        if (DateTime.TryParseExact(value, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var day))
        {
            return (DateTime.SpecifyKind(day, DateTimeKind.Utc), true);
        }
        // LiteLLM's own form for /spend/logs/v2, which its UI and scripts send.
        if (DateTime.TryParseExact(value, ["yyyy-MM-dd HH:mm:ss", "yyyy-MM-dd HH:mm:ss.FFFFFFF"], CultureInfo.InvariantCulture,
                DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var spaced))
        {
            return (DateTime.SpecifyKind(spaced, DateTimeKind.Utc), false);
        }
        if (value.Contains('T', StringComparison.Ordinal)
            && DateTime.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var instant))
        {
            return (DateTime.SpecifyKind(instant, DateTimeKind.Utc), false);
        }
        throw ProxyError.BadRequest($"{param}={value} is not a date: give a UTC day as YYYY-MM-DD (e.g. 2026-01-31), an ISO 8601 instant (e.g. 2026-01-31T12:00:00Z) or YYYY-MM-DD HH:MM:SS (UTC).", param);
    }
}
