using System.Net;
using System.Net.Sockets;

namespace Portal.Tests.Infrastructure;

public static class Loopback
{
    /// <summary>
    /// A port on 127.0.0.1 that nothing listens on right now: for a process to listen on, or for an upstream that
    /// refuses connections. (Another process could take it before it is used; on a test machine that is rare enough.)
    /// </summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
