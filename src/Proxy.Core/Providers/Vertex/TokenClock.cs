using Google.Apis.Util;

namespace Proxy.Core.Providers.Vertex;

/// <summary>The gateway's <see cref="TimeProvider"/> as Google's auth library reads time, so tests can move it.</summary>
internal sealed class TokenClock(TimeProvider time) : IClock
{
    public DateTime Now => time.GetLocalNow().DateTime;

    public DateTime UtcNow => time.GetUtcNow().UtcDateTime;
}
