namespace WeightPrint.Statistics;

/// <summary>
/// Rectangular linear assignment: each row gets a distinct column so that the total cost is minimal (or
/// maximal). Shortest augmenting paths with dual potentials (Jonker–Volgenant's augmentation phase as
/// formulated for rectangular problems by Crouse 2016, "On implementing 2D rectangular assignment
/// algorithms", IEEE TAES 52(4)) — the algorithm behind scipy's linear_sum_assignment. Square problems first
/// get Jonker–Volgenant's column reduction, which assigns most rows of easy (near-diagonal) instances at once.
/// O(r² c) worst case for r rows ≤ c columns, O(r + c) memory besides the float cost matrix, which the caller
/// owns (a 11 008 × 11 008 float matrix is 485 MB; callers match subsets instead — see NeuronMatchMethod).
/// </summary>
internal static class LinearAssignment
{
    /// <summary>Largest cost matrix accepted (cells).</summary>
    public const long MaxCells = 1L << 31;

    /// <summary>Minimum-cost assignment. Returns, for each row, its column, or −1 when rows exceed columns and the
    /// row is left unassigned. NaN costs are not allowed.</summary>
    public static int[] Minimize(ReadOnlySpan<float> cost, int rows, int cols) => Solve(cost, rows, cols, maximize: false);

    /// <summary>Maximum-total assignment (e.g. of similarities); same conventions as <see cref="Minimize"/>.</summary>
    public static int[] Maximize(ReadOnlySpan<float> cost, int rows, int cols) => Solve(cost, rows, cols, maximize: true);

    /// <summary>Total of the assigned cells.</summary>
    public static double Total(ReadOnlySpan<float> cost, int cols, IReadOnlyList<int> assignment)
    {
        double t = 0;
        for (int i = 0; i < assignment.Count; i++)
        {
            if (assignment[i] >= 0) t += cost[i * cols + assignment[i]];
        }

        return t;
    }

    private static int[] Solve(ReadOnlySpan<float> cost, int rows, int cols, bool maximize)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfNegative(cols);
        if ((long)rows * cols > MaxCells) throw new ArgumentException($"assignment problem of {rows} × {cols} exceeds {MaxCells} cells", nameof(cost));
        if (cost.Length != rows * cols) throw new ArgumentException("cost length must be rows × cols", nameof(cost));
        if (rows == 0 || cols == 0) return Enumerable.Repeat(-1, rows).ToArray();
        if (rows > cols)
        {
            var transposed = new float[cost.Length];
            for (int i = 0; i < rows; i++)
            {
                for (int j = 0; j < cols; j++) transposed[j * rows + i] = cost[i * cols + j];
            }

            var colToRow = SolveWide(transposed, cols, rows, maximize);
            var rowToCol = Enumerable.Repeat(-1, rows).ToArray();
            for (int j = 0; j < cols; j++) rowToCol[colToRow[j]] = j;
            return rowToCol;
        }

        return SolveWide(cost, rows, cols, maximize);
    }

    // rows ≤ cols. Works on c'[i, j] = s·cost[i, j] − min(s·cost) ≥ 0 with s = ±1.
    private static int[] SolveWide(ReadOnlySpan<float> cost, int rows, int cols, bool maximize)
    {
        double sign = maximize ? -1 : 1;
        double cmin = double.PositiveInfinity;
        foreach (float c in cost)
        {
            if (float.IsNaN(c)) throw new ArgumentException("cost matrix contains NaN", nameof(cost));
            cmin = Math.Min(cmin, sign * c);
        }

        var u = new double[rows];
        var v = new double[cols];
        var col4row = new int[rows];
        var row4col = new int[cols];
        Array.Fill(col4row, -1);
        Array.Fill(row4col, -1);

        if (rows == cols) ColumnReduction(cost, rows, sign, cmin, v, col4row, row4col);

        var spc = new double[cols];
        var path = new int[cols];
        var remaining = new int[cols];
        var visitedRow = new bool[rows];
        var visitedCol = new bool[cols];
        var visitedRows = new List<int>();
        var visitedCols = new List<int>();
        for (int cur = 0; cur < rows; cur++)
        {
            if (col4row[cur] >= 0) continue;
            Array.Fill(spc, double.PositiveInfinity);
            int numRemaining = cols;
            for (int it = 0; it < cols; it++) remaining[it] = cols - 1 - it;
            foreach (int r in visitedRows) visitedRow[r] = false;
            foreach (int c in visitedCols) visitedCol[c] = false;
            visitedRows.Clear();
            visitedCols.Clear();

            double minVal = 0;
            int i = cur, sink = -1;
            while (sink < 0)
            {
                visitedRow[i] = true;
                visitedRows.Add(i);
                var row = cost.Slice(i * cols, cols);
                double baseCost = minVal - u[i] - cmin;
                double lowest = double.PositiveInfinity;
                int index = -1;
                for (int it = 0; it < numRemaining; it++)
                {
                    int j = remaining[it];
                    double r = baseCost + sign * row[j] - v[j];
                    double s = spc[j];
                    if (r < s)
                    {
                        path[j] = i;
                        spc[j] = s = r;
                    }

                    if (s < lowest || (s == lowest && row4col[j] < 0))
                    {
                        lowest = s;
                        index = it;
                    }
                }

                minVal = lowest;
                if (index < 0 || double.IsPositiveInfinity(minVal)) throw new ArgumentException("assignment problem is infeasible (infinite costs)", nameof(cost));
                int jj = remaining[index];
                if (row4col[jj] < 0) sink = jj;
                else i = row4col[jj];
                visitedCol[jj] = true;
                visitedCols.Add(jj);
                remaining[index] = remaining[--numRemaining];
            }

            u[cur] += minVal;
            foreach (int r in visitedRows)
            {
                if (r != cur) u[r] += minVal - spc[col4row[r]];
            }

            foreach (int c in visitedCols) v[c] -= minVal - spc[c];

            for (int j = sink; ;)
            {
                int r = path[j];
                row4col[j] = r;
                (col4row[r], j) = (j, col4row[r]);
                if (r == cur) break;
            }
        }

        return col4row;
    }

    // Jonker–Volgenant column reduction for square problems: v[j] = min over rows of c'[i, j]; each column's
    // minimising row takes it when that row is still free. Keeps u = 0, so c' − u − v ≥ 0 and every assigned
    // pair has zero reduced cost: a valid start for the shortest-augmenting-path phase.
    private static void ColumnReduction(ReadOnlySpan<float> cost, int n, double sign, double cmin, double[] v, int[] col4row, int[] row4col)
    {
        var argmin = new int[n];
        Array.Fill(v, double.PositiveInfinity);
        for (int i = 0; i < n; i++)
        {
            var row = cost.Slice(i * n, n);
            for (int j = 0; j < n; j++)
            {
                double c = sign * row[j] - cmin;
                if (c < v[j])
                {
                    v[j] = c;
                    argmin[j] = i;
                }
            }
        }

        for (int j = n - 1; j >= 0; j--)
        {
            int i = argmin[j];
            if (col4row[i] < 0)
            {
                col4row[i] = j;
                row4col[j] = i;
            }
        }
    }
}
