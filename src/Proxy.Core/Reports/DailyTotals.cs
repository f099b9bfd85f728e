using Proxy.Core.Usage;

namespace Proxy.Core.Reports;

/// <summary>The sums of a <see cref="DailyUsage"/> row, added to in place while a batch is grouped.</summary>
internal struct DailyTotals
{
    public long Requests;
    public long Successful;
    public long Failed;
    public long PromptTokens;
    public long CompletionTokens;
    public long CacheReadTokens;
    public long CacheCreationTokens;
    public double Spend;

    public void Add(UsageRecord r)
    {
        Requests++;
        if (r.Status < 400)
        {
            Successful++;
        }
        else
        {
            Failed++;
        }
        PromptTokens += r.PromptTokens;
        CompletionTokens += r.CompletionTokens;
        CacheReadTokens += r.CacheReadTokens;
        CacheCreationTokens += r.CacheCreationTokens;
        Spend += r.Spend;
    }
}
