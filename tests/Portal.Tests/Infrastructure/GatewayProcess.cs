using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;

namespace Portal.Tests.Infrastructure;

/// <summary>
/// The gateway as operators run it: <c>dotnet Portal.dll</c> in its own process (from the build output or a publish
/// folder), configured only by environment variables, on a loopback port, its console captured line by line. It finds
/// its content root as an installed gateway does (no <c>--contentRoot</c>), and runs from a fresh folder of its own.
/// </summary>
public sealed class GatewayProcess : IAsyncDisposable
{
    // The same secrets as GatewayFactory's, so a process and an in-memory gateway can take turns on one database file.
    public const string MasterKey = GatewayFactory.MasterKey;
    public const string AdminEmail = GatewayFactory.AdminEmail;
    public const string AdminPassword = GatewayFactory.AdminPassword;

    private readonly Process _process;
    private readonly string _workingDirectory;

    /// <summary>
    /// On Linux each redirected stream of a child process is read by a thread-pool thread blocked on its pipe, so every
    /// gateway process holds two of this test process's threads. With the pool's minimum at one per core, the test's own
    /// clients and stand-ins then wait for the pool to add threads (0.5–1 s) and a test that times calls measures that
    /// instead of the gateway (the locked-database test saw 0.5–1 s calls with no writer queued at all).
    /// </summary>
    static GatewayProcess()
    {
        ThreadPool.GetMinThreads(out var workers, out var io);
        ThreadPool.SetMinThreads(Math.Max(workers, Environment.ProcessorCount + 16), io);
    }

    private GatewayProcess(Process process, Uri baseAddress, string workingDirectory)
    {
        _process = process;
        BaseAddress = baseAddress;
        _workingDirectory = workingDirectory;
    }

    public Uri BaseAddress { get; }
    public ConcurrentQueue<string> Output { get; } = new();
    public int ProcessId => _process.Id;
    public bool HasExited => _process.HasExited;

    /// <summary>The repository checkout these tests run from (the folder with Portal.sln).</summary>
    public static string RepositoryRoot
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "Portal.sln")))
                {
                    return dir.FullName;
                }
            }
            throw new InvalidOperationException("Not inside a checkout: no Portal.sln above " + AppContext.BaseDirectory);
        }
    }

    /// <summary>The gateway's build output of the configuration these tests were built in (test.sh builds Release).</summary>
    public static string BuildOutputDll
    {
        get
        {
            var configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name;
            var dll = Path.Combine(RepositoryRoot, "src", "Portal", "bin", configuration, "net10.0", "Portal.dll");
            return File.Exists(dll) ? dll : throw new InvalidOperationException($"{dll} does not exist: build Portal.sln first.");
        }
    }

    /// <summary><c>dotnet publish</c> of the already built gateway into a fresh folder; returns its Portal.dll.</summary>
    public static async Task<string> PublishAsync()
    {
        var configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name;
        var output = Path.Combine(Path.GetTempPath(), $"gateway-publish-{Guid.NewGuid():N}");
        var (code, log) = await RunAsync("dotnet", ["publish", Path.Combine(RepositoryRoot, "src", "Portal", "Portal.csproj"), "-c", configuration, "--no-build", "-o", output]);
        return code == 0 ? Path.Combine(output, "Portal.dll") : throw new InvalidOperationException($"dotnet publish failed ({code}):\n{log}");
    }

    /// <summary>Starts the gateway and waits until <c>/health/readiness</c> answers 200.</summary>
    /// <param name="dll">The Portal.dll to run: <see cref="BuildOutputDll"/> when null, or a publish folder's.</param>
    /// <param name="databaseFile">The SQLite file, for a test that restarts on it or opens it itself; a fresh one in the process's folder when null.</param>
    /// <param name="lockWaitSeconds">SQLite's <c>Default Timeout</c>: how long a write waits for the lock (the product's default 5 s when null).</param>
    /// <param name="settings">More environment variables (<c>Section__Key</c>), applied last.</param>
    /// <param name="readyWithin">How long start-up may take: 60 s when null.</param>
    public static async Task<GatewayProcess> StartAsync(
        string? dll = null,
        string environment = "Production",
        string? databaseFile = null,
        int? lockWaitSeconds = null,
        Dictionary<string, string>? settings = null,
        TimeSpan? readyWithin = null)
    {
        dll ??= BuildOutputDll;
        var port = Loopback.FreePort();
        var folder = Directory.CreateTempSubdirectory("gateway-process-").FullName;
        databaseFile ??= Path.Combine(folder, "gateway.db");
        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { dll, "--urls", $"http://127.0.0.1:{port}" },
            WorkingDirectory = folder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // What the test runner's own environment could otherwise slip into the gateway's configuration.
        foreach (var inherited in new[] { "ASPNETCORE_URLS", "DOTNET_ENVIRONMENT", "LITELLM_MASTER_KEY", "ASPNETCORE_HOSTINGSTARTUPASSEMBLIES" })
        {
            start.Environment.Remove(inherited);
        }
        start.Environment["ASPNETCORE_ENVIRONMENT"] = environment;
        start.Environment["Proxy__MasterKey"] = MasterKey;
        start.Environment["Proxy__EncryptionKey"] = GatewayFactory.EncryptionKey;
        start.Environment["Portal__AdminEmail"] = AdminEmail;
        start.Environment["Portal__AdminPassword"] = AdminPassword;
        start.Environment["ConnectionStrings__Portal"] = $"Data Source={databaseFile}" + (lockWaitSeconds is { } wait ? $";Default Timeout={wait}" : "");
        foreach (var (name, value) in settings ?? [])
        {
            start.Environment[name] = value;
        }

        var process = new Process { StartInfo = start };
        var gateway = new GatewayProcess(process, new Uri($"http://127.0.0.1:{port}"), folder);
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) gateway.Output.Enqueue(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) gateway.Output.Enqueue(e.Data); };
        if (!process.Start())
        {
            throw new InvalidOperationException($"dotnet {dll} did not start.");
        }
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        var within = readyWithin ?? TimeSpan.FromSeconds(60);
        using var probe = new HttpClient { BaseAddress = gateway.BaseAddress, Timeout = TimeSpan.FromSeconds(2) };
        var watch = Stopwatch.StartNew();
        while (!process.HasExited && watch.Elapsed < within)
        {
            try
            {
                if ((await probe.GetAsync("/health/readiness")).StatusCode == HttpStatusCode.OK)
                {
                    return gateway;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                // Not listening yet.
            }
            await Task.Delay(100);
        }
        var why = process.HasExited ? $"exited with {process.ExitCode}" : $"was not ready within {within.TotalSeconds} s";
        var output = string.Join('\n', gateway.Output);
        await gateway.DisposeAsync();
        throw new InvalidOperationException($"The gateway process {why}. Its output:\n{output}");
    }

    /// <summary>An HttpClient for many parallel calls with one key (none if null); <paramref name="timeout"/> bounds every call (30 s when null).</summary>
    public HttpClient Client(string? key = MasterKey, TimeSpan? timeout = null)
    {
        var client = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(2) })
        {
            BaseAddress = BaseAddress,
            Timeout = timeout ?? TimeSpan.FromSeconds(30),
        };
        if (key is not null)
        {
            client.DefaultRequestHeaders.Authorization = new("Bearer", key);
        }
        return client;
    }

    /// <summary>SIGKILL, no shutdown hooks: what kill -9 does.</summary>
    public void KillHard()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }
        _process.WaitForExit(10_000);
    }

    public ValueTask DisposeAsync()
    {
        KillHard();
        _process.Dispose();
        try
        {
            Directory.Delete(_workingDirectory, recursive: true);
        }
        catch (IOException)
        {
            // A file still held by a dying child: the temp folder is cleaned by the OS.
        }
        return ValueTask.CompletedTask;
    }

    private static async Task<(int Code, string Log)> RunAsync(string file, string[] args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await stdout + await stderr);
    }
}
