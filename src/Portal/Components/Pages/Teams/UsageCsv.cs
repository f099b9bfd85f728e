using System.Globalization;
using System.Text;
using Proxy.Core.Reports;

namespace Portal.Components.Pages.Teams;

/// <summary>
/// The Usage tab's daily report as CSV for a spreadsheet: one row per UTC day and public model (the line of a bill:
/// "what did the team spend per model per day"), oldest day first, a header row, numbers in the invariant culture
/// (a point for decimals, no thousands separators), dates as <c>yyyy-MM-dd</c>. RFC 4180: comma-separated, CRLF,
/// a field quoted when it holds a comma, quote or line break.
/// </summary>
public static class UsageCsv
{
    public const string Header =
        "date,team,model,api_requests,successful_requests,failed_requests,prompt_tokens,completion_tokens,cache_read_input_tokens,total_tokens,spend_usd";

    public static string Write(string team, IEnumerable<ActivityDay> days)
    {
        var csv = new StringBuilder(Header).Append("\r\n");
        foreach (var day in days.OrderBy(d => d.Date))
        {
            foreach (var (model, m) in day.Models.OrderBy(p => p.Key, StringComparer.Ordinal))
            {
                csv.Append(day.Date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)).Append(',')
                    .Append(Text(team)).Append(',')
                    .Append(Text(model)).Append(',')
                    .Append(Number(m.ApiRequests)).Append(',')
                    .Append(Number(m.SuccessfulRequests)).Append(',')
                    .Append(Number(m.FailedRequests)).Append(',')
                    .Append(Number(m.PromptTokens)).Append(',')
                    .Append(Number(m.CompletionTokens)).Append(',')
                    .Append(Number(m.CacheReadInputTokens)).Append(',')
                    .Append(Number(m.TotalTokens)).Append(',')
                    // Fixed-point, never "1E-07": a per-token price times a few tokens is well below a cent.
                    .Append(m.Spend.ToString("0.##########", CultureInfo.InvariantCulture))
                    .Append("\r\n");
            }
        }
        return csv.ToString();
    }

    /// <summary>"usage-sweden-2026-11-30-to-2026-12-06.csv": the team's name reduced to letters, digits and dashes.</summary>
    public static string FileName(string team, DateOnly start, DateOnly end)
    {
        var name = new string([.. team.ToLowerInvariant().Select(c => char.IsAsciiLetterOrDigit(c) ? c : '-')]).Trim('-');
        return $"usage-{(name.Length == 0 ? "team" : name)}-{start:yyyy-MM-dd}-to-{end:yyyy-MM-dd}.csv";
    }

    private static string Number(long value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// A name as a field. Names are chosen by team admins: one starting with = + - @ would run as a formula in a
    /// spreadsheet (OWASP's CSV injection), so it is prefixed with an apostrophe, which spreadsheets show as text.
    /// </summary>
    private static string Text(string value)
    {
        if (value.Length > 0 && value[0] is '=' or '+' or '-' or '@' or '\t' or '\r')
        {
            value = "'" + value;
        }
        return value.AsSpan().IndexOfAny(",\"\r\n") >= 0 ? $"\"{value.Replace("\"", "\"\"")}\"" : value;
    }
}
