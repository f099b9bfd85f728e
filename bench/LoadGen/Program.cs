using LoadGen;

// bench/LoadGen: the measuring half of bench/run.sh (which documents the whole harness).
//   latency  open-loop fixed-rate load, targets interleaved A B C A B C, latency from the scheduled send time
//   seed     team + team key + team model through the gateway's REST API with the master key
//   callable time from POST /model/new (and /key/generate) until the first successful chat call with it
//   report   turns results.jsonl into the table of bench/RESULTS.md
try
{
    var args2 = Args.Parse(args.Skip(1));
    return args.FirstOrDefault() switch
    {
        "latency" => await Latency.RunAsync(args2),
        "seed" => await Seeding.SeedAsync(args2),
        "callable" => await Seeding.CallableAsync(args2),
        "report" => Report.Run(args2),
        _ => Usage(),
    };
}
catch (ArgumentException e)
{
    Console.Error.WriteLine($"LoadGen: {e.Message}");
    return 2;
}

static int Usage()
{
    Console.Error.WriteLine("usage: LoadGen latency|seed|callable|report --option value ... (see bench/run.sh)");
    return 2;
}
