using System.Text;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Docs;

/// <summary>
/// The documentation a newcomer starts from: every relative link in README.md and docs/*.md leads somewhere, every
/// route the running gateway maps is in docs/api.md, and the README stays a front door, not a manual.
/// </summary>
public sealed partial class DocsTests(GatewayFactory gateway) : IClassFixture<GatewayFactory>
{
    private const int ReadmeMaxLines = 250;

    /// <summary>Not the REST, LLM or health surface: the portal's pages, Identity's and SSO's routes, Blazor, static assets.</summary>
    private static readonly string[] PortalPrefixes = ["/Account", "/_blazor", "/_framework", "/_content", "/not-found", "/signin-oidc", "/signout-callback-oidc"];

    private static readonly string Root = FindRoot();

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Portal.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException($"No Portal.sln above {AppContext.BaseDirectory}.");
    }

    private static IEnumerable<string> Pages() =>
        Directory.GetFiles(Path.Combine(Root, "docs"), "*.md").Prepend(Path.Combine(Root, "README.md"));

    [Fact]
    public void Readme_IsAFrontDoor_OfAtMost250Lines()
    {
        var lines = File.ReadAllLines(Path.Combine(Root, "README.md")).Length;

        Assert.True(lines <= ReadmeMaxLines, $"README.md has {lines} lines; move detail to a docs/ page (at most {ReadmeMaxLines}).");
    }

    [Fact]
    public void EveryRelativeLink_InTheReadmeAndDocs_Resolves()
    {
        var problems = new List<string>();
        var checkedLinks = 0;
        foreach (var page in Pages())
        {
            var name = Path.GetRelativePath(Root, page);
            foreach (var target in Links(File.ReadAllText(page)))
            {
                if (UriSchemed().IsMatch(target))
                {
                    continue;
                }
                checkedLinks++;
                var hash = target.IndexOf('#', StringComparison.Ordinal);
                var path = Uri.UnescapeDataString(hash < 0 ? target : target[..hash]);
                var anchor = hash < 0 ? null : target[(hash + 1)..];
                var file = path.Length == 0 ? page : Path.GetFullPath(Path.Combine(Path.GetDirectoryName(page)!, path));
                if (!File.Exists(file) && !Directory.Exists(file))
                {
                    problems.Add($"{name}: ({target}) — {path} does not exist");
                    continue;
                }
                if (anchor is not null && !(File.Exists(file) && Anchors(File.ReadAllText(file)).Contains(anchor)))
                {
                    problems.Add($"{name}: ({target}) — no heading #{anchor} in {Path.GetRelativePath(Root, file)}");
                }
            }
        }
        Assert.True(checkedLinks > 30, $"only {checkedLinks} relative links found");
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Fact]
    public void EveryRouteTheGatewayMaps_IsInTheApiContract()
    {
        var contract = File.ReadAllText(Path.Combine(Root, "docs", "api.md"));
        var routes = gateway.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            // Razor component pages (the portal) carry their component type; static assets are files.
            .Where(e => !e.Metadata.Any(m => m.GetType().Name is "ComponentTypeMetadata" || m.GetType().Namespace?.StartsWith("Microsoft.AspNetCore.StaticAssets", StringComparison.Ordinal) == true))
            .Select(e => "/" + (e.RoutePattern.RawText ?? "").TrimStart('/'))
            .Where(p => !p.Contains("{*", StringComparison.Ordinal) && !p.Contains(":file}", StringComparison.Ordinal))
            .Where(p => !PortalPrefixes.Any(prefix => p.StartsWith(prefix, StringComparison.OrdinalIgnoreCase)))
            .Distinct()
            .ToList();
        Assert.True(routes.Count > 40, $"only {routes.Count} routes found: {string.Join(", ", routes)}");

        // The path as a whole token: /models must be there on its own, not only inside /v1/models.
        var missing = routes.Where(route => !Regex.IsMatch(contract, $@"(?<![\w/{{}}.-]){Regex.Escape(route)}(?![\w/{{}}.-])")).ToList();

        Assert.True(missing.Count == 0, $"Routes the gateway maps that docs/api.md does not name: {string.Join(", ", missing)}");
    }

    /// <summary>The targets of inline links and images, outside code blocks and code spans.</summary>
    private static IEnumerable<string> Links(string markdown) =>
        LinkTarget().Matches(CodeSpan().Replace(WithoutFences(markdown), "")).Select(m => m.Groups[1].Value);

    /// <summary>GitHub's anchors: each heading lower-cased, punctuation dropped, spaces as hyphens; repeats get -1, -2, ...</summary>
    private static HashSet<string> Anchors(string markdown)
    {
        var anchors = new HashSet<string>(StringComparer.Ordinal);
        foreach (var line in WithoutFences(markdown).Split('\n'))
        {
            var heading = Heading().Match(line.TrimEnd('\r'));
            if (!heading.Success)
            {
                continue;
            }
            var text = heading.Groups[1].Value.Replace("`", "", StringComparison.Ordinal).Trim().ToLowerInvariant();
            var slug = new StringBuilder();
            foreach (var c in text)
            {
                if (char.IsLetterOrDigit(c) || c is '-' or '_')
                {
                    slug.Append(c);
                }
                else if (c == ' ')
                {
                    slug.Append('-');
                }
            }
            var unique = slug.ToString();
            for (var n = 1; !anchors.Add(unique); n++)
            {
                unique = $"{slug}-{n}";
            }
        }
        return anchors;
    }

    private static string WithoutFences(string markdown) => Fence().Replace(markdown, "");

    [GeneratedRegex(@"^```.*?^```", RegexOptions.Multiline | RegexOptions.Singleline)]
    private static partial Regex Fence();

    [GeneratedRegex(@"`[^`]+`")]
    private static partial Regex CodeSpan();

    [GeneratedRegex(@"\]\(([^)\s]+)\)")]
    private static partial Regex LinkTarget();

    [GeneratedRegex(@"^[a-zA-Z][a-zA-Z0-9+.-]*:")]
    private static partial Regex UriSchemed();

    [GeneratedRegex(@"^#{1,6}\s+(.+?)\s*#*$")]
    private static partial Regex Heading();
}
