using System.Net;
using System.Text.RegularExpressions;

namespace Portal.Tests.Infrastructure;

/// <summary>
/// The portal's static account pages (sign-in, invite) driven over plain HTTP, as a browser would post their forms:
/// the antiforgery cookie and token from the GET, then the POST. Cookies are kept, redirects are not followed.
/// </summary>
public sealed partial class PortalForms : IDisposable
{
    private readonly HttpClient _http;

    public PortalForms(Uri baseAddress)
    {
        Handler = new HttpClientHandler { CookieContainer = Cookies, AllowAutoRedirect = false };
        _http = new HttpClient(Handler) { BaseAddress = baseAddress };
    }

    public CookieContainer Cookies { get; } = new();
    private HttpClientHandler Handler { get; }

    /// <summary>Headers every request carries (e.g. X-Forwarded-Proto, as a reverse proxy would add).</summary>
    public Dictionary<string, string> Headers { get; } = [];

    /// <summary>Posts the sign-in form; returns the answer (a redirect when it worked).</summary>
    public Task<HttpResponseMessage> SignInAsync(string email, string password) =>
        PostFormAsync("/Account/Login", "login", new() { ["Input.Email"] = email, ["Input.Password"] = password });

    /// <summary>GETs <paramref name="path"/>, then posts its form <paramref name="form"/> with <paramref name="fields"/>.</summary>
    public async Task<HttpResponseMessage> PostFormAsync(string path, string form, Dictionary<string, string> fields)
    {
        var page = await GetAsync(path);
        var html = await page.Content.ReadAsStringAsync();
        var token = Token().Match(html);
        if (!token.Success)
        {
            throw new InvalidOperationException($"{path} has no antiforgery token ({(int)page.StatusCode}): {html[..Math.Min(html.Length, 500)]}");
        }
        var body = new Dictionary<string, string>(fields) { ["_handler"] = form, ["__RequestVerificationToken"] = WebUtility.HtmlDecode(token.Groups[1].Value) };
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new FormUrlEncodedContent(body) };
        foreach (var (name, value) in Headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }
        return await _http.SendAsync(request);
    }

    public async Task<HttpResponseMessage> GetAsync(string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        foreach (var (name, value) in Headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }
        return await _http.SendAsync(request);
    }

    /// <summary>The sign-in cookie this client holds, for another client (another instance) to present.</summary>
    public string SignInCookie() =>
        Cookies.GetAllCookies().FirstOrDefault(c => c.Name == ".AspNetCore.Identity.Application") is { } cookie
            ? $"{cookie.Name}={cookie.Value}"
            : throw new InvalidOperationException("Not signed in: no .AspNetCore.Identity.Application cookie.");

    public void Dispose()
    {
        _http.Dispose();
        Handler.Dispose();
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"([^\"]+)\"")]
    private static partial Regex Token();
}
