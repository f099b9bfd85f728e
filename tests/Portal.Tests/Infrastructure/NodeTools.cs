using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;

namespace Portal.Tests.Infrastructure;

/// <summary>
/// The real coding tools the tests run, installed from npm by <c>.ci/install-test-tools</c> (test.sh runs it) into
/// <c>tests/tools/node_modules</c>, pinned by <c>tests/tools/package.json</c> and its lock file. A tool that is not
/// there fails the test that needs it, with the command that installs it: it is never skipped.
/// </summary>
public static class NodeTools
{
    public static string Folder => Path.Combine(GatewayProcess.RepositoryRoot, "tests", "tools");

    /// <summary>The <c>claude</c> executable (Claude Code's native binary).</summary>
    public static string ClaudeCode => Executable("claude");

    /// <summary>The <c>codex</c> executable (Codex CLI's launcher of its native binary).</summary>
    public static string Codex => Executable("codex");

    /// <summary>The version tests/tools/package.json pins for an npm package.</summary>
    public static string PinnedVersion(string package) =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(Folder, "package.json")))!["dependencies"]![package]!.GetValue<string>();

    private static string Executable(string name)
    {
        var path = Path.Combine(Folder, "node_modules", ".bin", name);
        Assert.True(File.Exists(path), $"{path} does not exist: run `bash .ci/install-test-tools` (test.sh does) to install the coding tools from npm.");
        return path;
    }

    /// <summary>
    /// Runs a tool to its end with nothing on stdin, in <paramref name="workingDirectory"/>, with the test process's
    /// environment minus anything that would point the tool elsewhere (ANTHROPIC_*, CLAUDE_*, OPENAI_*, CODEX_*, proxies) plus
    /// <paramref name="environment"/>. Past <paramref name="timeout"/> the tool and its children are killed and the
    /// result says so.
    /// </summary>
    public static async Task<ToolRun> RunAsync(string file, IEnumerable<string> args, string workingDirectory, IReadOnlyDictionary<string, string> environment, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(file)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        foreach (var name in start.Environment.Keys.ToList())
        {
            if (name.StartsWith("ANTHROPIC_", StringComparison.OrdinalIgnoreCase) || name.StartsWith("CLAUDE", StringComparison.OrdinalIgnoreCase)
                || name.StartsWith("OPENAI_", StringComparison.OrdinalIgnoreCase) || name.StartsWith("CODEX_", StringComparison.OrdinalIgnoreCase)
                || name.EndsWith("_PROXY", StringComparison.OrdinalIgnoreCase))
            {
                start.Environment.Remove(name);
            }
        }
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }
        var watch = Stopwatch.StartNew();
        using var process = Process.Start(start)!;
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        var timedOut = false;
        using (var cts = new CancellationTokenSource(timeout))
        {
            try
            {
                await process.WaitForExitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                timedOut = true;
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
            }
        }
        return new ToolRun(timedOut ? -1 : process.ExitCode, await stdout, await stderr, timedOut, watch.Elapsed);
    }
}

public sealed record ToolRun(int ExitCode, string Stdout, string Stderr, bool TimedOut, TimeSpan Elapsed)
{
    public override string ToString()
    {
        var text = new StringBuilder();
        text.Append(TimedOut ? $"timed out after {Elapsed.TotalSeconds:0.0} s" : $"exit code {ExitCode} after {Elapsed.TotalSeconds:0.0} s");
        text.Append("\n--- stdout ---\n").Append(Stdout);
        text.Append("\n--- stderr ---\n").Append(Stderr);
        return text.ToString();
    }
}
