using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Portal.Tests.Infrastructure;

/// <summary>
/// The gateway as operators run it: <c>dotnet Portal.dll</c> in its own process (from the build output or a publish
/// folder), configured only by environment variables, its console captured line by line.
/// </summary>
public sealed class GatewayProcess : IAsyncDisposable
{
    public const string MasterKey = "sk-process-master-key-0123456789";
    public const string AdminEmail = "ops@example.com";
    public const string AdminPassword = "Ops-Password-12";

    private readonly Process _process;
    private readonly string _dataDirectory;

    private GatewayProcess(Process process, Uri baseAddress, string dataDirectory)
    {
        _process = process;
        BaseAddress = baseAddress;
        _dataDirectory = dataDirectory;
    }

    public Uri BaseAddress { get; }
    public ConcurrentQueue<string> Output { get; } = new();

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

    /// <summary>Starts <paramref name="dll"/> with a fresh SQLite file and the secrets set, from a working directory elsewhere.</summary>
    public static async Task<GatewayProcess> StartAsync(string dll, string environment = "Production", Dictionary<string, string>? settings = null)
    {
        var port = FreePort();
        var data = Path.Combine(Path.GetTempPath(), $"gateway-process-{Guid.NewGuid():N}");
        Directory.CreateDirectory(data);
        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { dll, "--urls", $"http://127.0.0.1:{port}" },
            WorkingDirectory = data,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["ASPNETCORE_ENVIRONMENT"] = environment;
        start.Environment["Proxy__MasterKey"] = MasterKey;
        start.Environment["Proxy__EncryptionKey"] = "process-test-encryption-key";
        start.Environment["Portal__AdminEmail"] = AdminEmail;
        start.Environment["Portal__AdminPassword"] = AdminPassword;
        start.Environment["ConnectionStrings__Portal"] = $"Data Source={Path.Combine(data, "gateway.db")}";
        foreach (var (name, value) in settings ?? [])
        {
            start.Environment[name] = value;
        }
        var process = Process.Start(start)!;
        var gateway = new GatewayProcess(process, new Uri($"http://127.0.0.1:{port}"), data);
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) gateway.Output.Enqueue(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) gateway.Output.Enqueue(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var http = new HttpClient { BaseAddress = gateway.BaseAddress, Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"The gateway exited with {process.ExitCode}:\n{string.Join("\n", gateway.Output)}");
            }
            try
            {
                if ((await http.GetAsync("/health/readiness")).StatusCode == HttpStatusCode.OK)
                {
                    return gateway;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                // Not listening yet.
            }
            if (DateTime.UtcNow > deadline)
            {
                await gateway.DisposeAsync();
                throw new TimeoutException($"The gateway was not ready within 60 s:\n{string.Join("\n", gateway.Output)}");
            }
            await Task.Delay(200);
        }
    }

    public HttpClient Client(string? key = MasterKey)
    {
        var client = new HttpClient { BaseAddress = BaseAddress };
        if (key is not null)
        {
            client.DefaultRequestHeaders.Authorization = new("Bearer", key);
        }
        return client;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
        try
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
        catch (IOException)
        {
            // A file still held by a dying child: the temp folder is cleaned by the OS.
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
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
