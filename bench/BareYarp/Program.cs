using System.Net;
using Yarp.ReverseProxy.Forwarder;

// Bare YARP forward: the lower bound of what a .NET proxy on this machine adds.
// Usage: BareYarp --urls http://127.0.0.1:PORT --upstream http://127.0.0.1:STANDIN
var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.ClearProviders();
builder.Services.AddHttpForwarder();
var app = builder.Build();

var upstream = app.Configuration["upstream"] ?? throw new InvalidOperationException("--upstream http://127.0.0.1:PORT is required");
var invoker = new HttpMessageInvoker(new SocketsHttpHandler
{
    UseProxy = false,
    AllowAutoRedirect = false,
    AutomaticDecompression = DecompressionMethods.None,
    UseCookies = false,
    EnableMultipleHttp2Connections = true,
    ConnectTimeout = TimeSpan.FromSeconds(10),
    PooledConnectionLifetime = TimeSpan.FromMinutes(5),
    ActivityHeadersPropagator = null,
}, disposeHandler: true);
var forwarder = app.Services.GetRequiredService<IHttpForwarder>();
var config = ForwarderRequestConfig.Empty;
var transformer = HttpTransformer.Empty;

app.Run(async http =>
{
    var error = await forwarder.SendAsync(http, upstream, invoker, config, transformer);
    if (error != ForwarderError.None && !http.Response.HasStarted)
    {
        http.Response.StatusCode = StatusCodes.Status502BadGateway;
    }
});

app.Run();
