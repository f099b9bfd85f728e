using Proxy.Core;

namespace Portal.Endpoints;

public static class Paging
{
    public const int MaxSize = 100;

    public static (int Page, int Size) Validate(int? page, int? size)
    {
        var p = page ?? 1;
        var s = size ?? 50;
        if (p < 1)
        {
            throw ProxyError.BadRequest("page starts at 1.", "page");
        }
        if (s is < 1 or > MaxSize)
        {
            throw ProxyError.BadRequest($"size must be between 1 and {MaxSize}.", "size");
        }
        return (p, s);
    }
}
