using Atc.Gc.Benchmarks;

return await BenchCommands.RunAsync(args);
