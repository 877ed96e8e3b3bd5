using BenchmarkDotNet.Running;
using WeightPrint.Benchmarks;

// dotnet run -c Release --project bench/WeightPrint.Benchmarks -- generate DIR [options]   (synthetic checkpoint)
// dotnet run -c Release --project bench/WeightPrint.Benchmarks -- scan MODEL [--threads N]      (attention stds)
// dotnet run -c Release --project bench/WeightPrint.Benchmarks -- serve-hub --port-file F ORG/NAME=DIR...  (loopback Hub)
// dotnet run -c Release --project bench/WeightPrint.Benchmarks -- catalog DB --base FP --entries N  (generated catalog)
// dotnet run -c Release --project bench/WeightPrint.Benchmarks -- prefilter DB --suspect FP          (prefilter alone)
// dotnet run -c Release --project bench/WeightPrint.Benchmarks -- [BenchmarkDotNet options] (kernel benchmarks)
if (args.Length > 0 && args[0] == "generate") return CheckpointGenerator.Run(args[1..]);
if (args.Length > 0 && args[0] == "scan") return AttentionScan.Run(args[1..]);
if (args.Length > 0 && args[0] == "catalog") return CatalogGenerator.Run(args[1..]);
if (args.Length > 0 && args[0] == "prefilter") return CatalogGenerator.Prefilter(args[1..]);
if (args.Length > 0 && args[0] == "serve-hub") return LoopbackHub.Run(args[1..]);
BenchmarkSwitcher.FromAssembly(typeof(KernelBenchmarks).Assembly).Run(args, KernelBenchmarks.Config());
return 0;
