namespace WeightPrint.Signals.Spectral;

/// <summary>One layer pair of <c>spectral</c>, in depth order.</summary>
/// <param name="LayerA">Layer of A.</param>
/// <param name="LayerB">Layer of B.</param>
/// <param name="Score">Correlation of the two layers' attention spectra.</param>
/// <param name="RowRank">Share of B's layers at least as similar to this layer of A (descriptive).</param>
public sealed record SpectralLayer(int LayerA, int LayerB, double Score, double RowRank);

/// <summary>What <c>spectral</c> computed for one pair (JSON <c>raw</c> of the spectral method).</summary>
/// <param name="NullMean">Mean statistic over shuffled layer orders of B.</param>
/// <param name="NullSd">Its standard deviation.</param>
/// <param name="Z">Standardised observed statistic.</param>
/// <param name="Exceeding">Layer orders whose statistic reached the observed one.</param>
/// <param name="LayerOrders">Layer orders evaluated.</param>
/// <param name="Exhaustive">True when every order was evaluated (else random orders).</param>
/// <param name="HeadsA">Attention heads per layer in A.</param>
/// <param name="HeadsB">Attention heads per layer in B.</param>
/// <param name="HeadDim">Head size.</param>
/// <param name="Seed">The permutation seed.</param>
/// <param name="Layers">Per layer pair.</param>
public sealed record SpectralDetails(double NullMean, double NullSd, double Z, int Exceeding, int LayerOrders, bool Exhaustive, int HeadsA, int HeadsB, int HeadDim,
    int Seed, IReadOnlyList<SpectralLayer> Layers) : MethodDetails;
