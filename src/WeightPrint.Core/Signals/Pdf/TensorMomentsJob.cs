using WeightPrint.Model;
using WeightPrint.Numerics;

namespace WeightPrint.Signals.Pdf;

/// <summary>One tensor whose moments feed a depth curve: the curve's name, the layer, and the tensor.</summary>
internal readonly record struct TensorMomentsJob(string Curve, int Layer, TensorView View)
{
    /// <summary>
    /// Moments of every job's tensor, tensors in parallel (<see cref="MethodContext.Threads"/>), reporting bytes read
    /// to <see cref="MethodContext.Progress"/> tensor by tensor. Each tensor streams in bounded chunks, so memory does not grow with
    /// the model.
    /// </summary>
    public static Moments[] ComputeAll(IReadOnlyList<TensorMomentsJob> jobs, MethodContext context)
    {
        var moments = new Moments[jobs.Count];
        Parallel.For(0, jobs.Count, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, context.Threads) }, i =>
        {
            moments[i] = jobs[i].View.ComputeMoments();
            context.Progress?.Advance(Bytes([jobs[i]]));
        });
        return moments;
    }

    /// <summary>The layers a depth curve runs over: the decoder's (encoder–decoder models), else all.</summary>
    public static IReadOnlyList<LayerView> DepthLayers(ModelView model) => model.DecoderLayers.Count > 0 ? model.DecoderLayers : model.Layers;

    /// <summary>Bytes behind the jobs' tensors.</summary>
    public static long Bytes(IEnumerable<TensorMomentsJob> jobs) => jobs.Sum(j => SignalMethod.TensorBytes(j.View));
}
