namespace WeightPrint.Model.Architectures;

/// <summary>
/// Turns a layer's keyed tensors into canonical views: splits fused qkv and gate_up tensors by row runs,
/// un-permutes interleaved RoPE rows, transposes Conv1D weights, slices stacked experts, and splits biases
/// exactly like their weights. Every view reads the stored tensor on demand; nothing is copied.
/// </summary>
internal static class LayerAssembler
{
    public static LayerView Build(LayerParts parts, AttentionGeometry g, LayerLayout layout, MappingContext ctx)
    {
        var tensors = new Dictionary<TensorRole, TensorView>();
        var biases = new Dictionary<TensorRole, TensorView>();
        var b = new Builder(parts, g, layout, ctx);
        foreach (var (key, src) in parts.Weights) b.Place(key, src, bias: false, tensors);
        foreach (var (key, src) in parts.Biases) b.Place(key, src, bias: true, biases);
        var experts = b.Experts();
        return new LayerView(parts.Index, parts.Stack, tensors, experts, biases);
    }

    private sealed class Builder(LayerParts parts, AttentionGeometry g, LayerLayout layout, MappingContext ctx)
    {
        private string Where => $"{parts.Stack} layer {parts.Index}";

        public void Place(string key, WeightSource src, bool bias, Dictionary<TensorRole, TensorView> into)
        {
            TensorView whole = bias ? src.Column() : src.Matrix(layout.Conv1D);
            void Put(TensorRole role, IReadOnlyList<(long, long)>? runs = null, string transform = "")
            {
                TensorView v = runs == null ? whole : new RowSelectionView(whole, runs, transform);
                into[role] = bias ? new VectorView(v) : v;
            }

            void PutVector(TensorRole role) => into[role] = bias ? new VectorView(src.Column()) : src.Vector();

            switch (key)
            {
                case "q":
                    Put(TensorRole.AttnQ, layout.Mla == null ? RopeRuns(whole.Rows, 0) : null, "RoPE un-permuted");
                    break;
                case "k":
                    Put(TensorRole.AttnK, RopeRuns(whole.Rows, 0), "RoPE un-permuted");
                    break;
                case "v": Put(TensorRole.AttnV); break;
                case "o": Put(TensorRole.AttnO); break;
                case "qkv":
                    if (SplitQkv(whole.Rows, src.OriginalName) is { } s)
                    {
                        Put(TensorRole.AttnQ, s.Q, s.QText);
                        Put(TensorRole.AttnK, s.K, s.KText);
                        Put(TensorRole.AttnV, s.V, s.VText);
                    }

                    break;
                case "cross_q": Put(TensorRole.CrossQ); break;
                case "cross_k": Put(TensorRole.CrossK); break;
                case "cross_v": Put(TensorRole.CrossV); break;
                case "cross_o": Put(TensorRole.CrossO); break;
                case "gate": Put(TensorRole.MlpGate); break;
                case "up":
                    var others = bias ? parts.Biases : parts.Weights;
                    if (layout.UpMayHoldGate && !others.ContainsKey("gate") && g.IntermediateSize > 0 && whole.Rows == 2L * g.IntermediateSize)
                    {
                        Put(TensorRole.MlpGate, [(0, g.IntermediateSize)], "gate half of fused up");
                        Put(TensorRole.MlpUp, [(g.IntermediateSize, g.IntermediateSize)], "up half of fused up");
                    }
                    else Put(TensorRole.MlpUp);
                    break;
                case "down": Put(TensorRole.MlpDown); break;
                case "gate_up":
                    if (whole.Rows % 2 != 0)
                    {
                        ctx.Note($"{src.OriginalName}: fused gate_up has an odd number of rows ({whole.Rows}); it was not split");
                        break;
                    }

                    Put(TensorRole.MlpGate, [(0, whole.Rows / 2)], "gate half of fused gate_up");
                    Put(TensorRole.MlpUp, [(whole.Rows / 2, whole.Rows / 2)], "up half of fused gate_up");
                    break;
                case "attn_norm": PutVector(TensorRole.AttnNorm); break;
                case "mlp_norm": PutVector(TensorRole.MlpNorm); break;
                case "q_norm": PutVector(TensorRole.QNorm); break;
                case "k_norm": PutVector(TensorRole.KNorm); break;
                case "post_attn_norm": PutVector(TensorRole.PostAttnNorm); break;
                case "post_mlp_norm": PutVector(TensorRole.PostMlpNorm); break;
                case "cross_norm": PutVector(TensorRole.CrossNorm); break;
                case "q_a_norm": PutVector(TensorRole.QLowRankNorm); break;
                case "kv_a_norm": PutVector(TensorRole.KvLowRankNorm); break;
                case "router": Put(TensorRole.Router); break;
                case "shared_gate": Put(TensorRole.SharedExpertGate); break;
                case "q_a": Put(TensorRole.AttnQLowRank); break;
                case "q_b": Put(TensorRole.AttnQ); break;
                case "kv_a": Put(TensorRole.AttnKvLowRank); break;
                case "kv_b":
                    if (SplitKvB(whole.Rows, src.OriginalName) is { } kv)
                    {
                        Put(TensorRole.AttnK, kv.K, "k_nope rows of each head");
                        Put(TensorRole.AttnV, kv.V, "v rows of each head");
                    }

                    break;
                default:
                    if (!key.StartsWith("exps_", StringComparison.Ordinal)) ctx.Note($"{src.OriginalName}: no role for key '{key}' (mapping bug)");
                    break;
            }
        }

        /// <summary>Rows that undo interleaved RoPE for a block of <paramref name="rows"/> rows, or null when no
        /// un-permutation applies.</summary>
        private (long, long)[]? RopeRuns(long rows, long offset)
        {
            if (!layout.RopeInterleaved) return null;
            int hd = g.HeadDim;
            if (hd <= 0 || hd % 2 != 0 || rows % hd != 0)
            {
                ctx.Note($"Q/K rows are in interleaved RoPE order but the head size ({hd}) does not divide them; they are left in stored order");
                return null;
            }

            return RowSelectionView.RopeUnpermutation((int)(rows / hd), hd, offset);
        }

        private sealed record QkvSplit((long, long)[] Q, (long, long)[] K, (long, long)[] V, string QText, string KText, string VText);

        private QkvSplit? SplitQkv(long rows, string name)
        {
            int h = g.Heads, kv = g.KvHeads, hd = g.HeadDim;
            switch (layout.Qkv)
            {
                case QkvLayout.Concatenated:
                {
                    long qRows, kvRows;
                    if (h > 0 && kv > 0 && hd > 0 && (long)(h + 2 * kv) * hd == rows)
                    {
                        qRows = (long)h * hd;
                        kvRows = (long)kv * hd;
                    }
                    else if (rows % 3 == 0 && (h == 0 || kv == h))
                    {
                        qRows = kvRows = rows / 3;
                    }
                    else return Fail(name, rows, $"{h} heads, {kv} kv heads of size {hd}");

                    var q = RopeRuns(qRows, 0) ?? [(0, qRows)];
                    var k = RopeRuns(kvRows, qRows) ?? [(qRows, kvRows)];
                    string rope = layout.RopeInterleaved ? ", RoPE un-permuted" : "";
                    return new QkvSplit(q, k, [(qRows + kvRows, kvRows)],
                        $"q rows 0..{qRows - 1} of fused qkv{rope}", $"k rows {qRows}..{qRows + kvRows - 1} of fused qkv{rope}",
                        $"v rows {qRows + kvRows}..{rows - 1} of fused qkv");
                }

                case QkvLayout.PerHead:
                {
                    if (h <= 0 || rows % (3L * h) != 0) return Fail(name, rows, $"{h} heads × [q, k, v]");
                    long d = rows / (3L * h);
                    return new QkvSplit(RowSelectionView.Strided(h, 3 * d, 0, d), RowSelectionView.Strided(h, 3 * d, d, d), RowSelectionView.Strided(h, 3 * d, 2 * d, d),
                        "q rows of each head in fused [heads, 3, d] qkv", "k rows of each head in fused [heads, 3, d] qkv", "v rows of each head in fused [heads, 3, d] qkv");
                }

                case QkvLayout.FalconMultiQuery:
                {
                    if (h <= 0 || rows % (h + 2L) != 0) return Fail(name, rows, $"{h} query heads + 1 key + 1 value");
                    long d = rows / (h + 2L);
                    return new QkvSplit([(0, h * d)], [(h * d, d)], [((h + 1) * d, d)],
                        $"{h} query heads of multi-query fused qkv", "the single key head of multi-query fused qkv", "the single value head of multi-query fused qkv");
                }

                case QkvLayout.FalconGrouped:
                {
                    if (h <= 0 || kv <= 0 || h % kv != 0 || rows % (h + 2L * kv) != 0) return Fail(name, rows, $"{kv} groups of {h / Math.Max(kv, 1)} queries + key + value");
                    long d = rows / (h + 2L * kv);
                    long per = h / kv + 2;
                    return new QkvSplit(RowSelectionView.Strided(kv, per * d, 0, (per - 2) * d), RowSelectionView.Strided(kv, per * d, (per - 2) * d, d),
                        RowSelectionView.Strided(kv, per * d, (per - 1) * d, d),
                        $"query rows of each of {kv} groups in fused qkv", $"key row block of each of {kv} groups in fused qkv", $"value row block of each of {kv} groups in fused qkv");
                }

                default:
                    return null;
            }
        }

        private QkvSplit? Fail(string name, long rows, string expected)
        {
            ctx.Note($"{name}: fused qkv with {rows} rows does not match {expected}; it was not split (Q/K/V missing in {Where})");
            return null;
        }

        private ((long, long)[] K, (long, long)[] V)? SplitKvB(long rows, string name)
        {
            if (layout.Mla is not { } mla || g.Heads <= 0)
            {
                ctx.Note($"{name}: MLA kv_b_proj needs the head count and qk_nope/v head sizes from config.json; K and V were not split");
                return null;
            }

            long per = mla.QkNopeHeadDim + mla.VHeadDim;
            if (per <= 0 || rows != g.Heads * per)
            {
                ctx.Note($"{name}: kv_b_proj has {rows} rows, not {g.Heads} heads × ({mla.QkNopeHeadDim} + {mla.VHeadDim}); K and V were not split");
                return null;
            }

            return (RowSelectionView.Strided(g.Heads, per, 0, mla.QkNopeHeadDim), RowSelectionView.Strided(g.Heads, per, mla.QkNopeHeadDim, mla.VHeadDim));
        }

        public List<ExpertView> Experts()
        {
            var routed = new SortedDictionary<int, Dictionary<TensorRole, TensorView>>();
            Dictionary<TensorRole, TensorView>? shared = null;
            Dictionary<TensorRole, TensorView> Slot(int e)
            {
                if (e == LayerTarget.SharedExpert) return shared ??= [];
                if (!routed.TryGetValue(e, out var d)) routed[e] = d = [];
                return d;
            }

            foreach (var (e, dict) in parts.Experts)
            {
                var slot = Slot(e);
                foreach (var (key, src) in dict)
                {
                    var m = src.Matrix(layout.Conv1D);
                    switch (key)
                    {
                        case "gate": slot[TensorRole.MlpGate] = m; break;
                        case "up": slot[TensorRole.MlpUp] = m; break;
                        case "down": slot[TensorRole.MlpDown] = m; break;
                        case "gate_up" when m.Rows % 2 == 0:
                            slot[TensorRole.MlpGate] = new RowSelectionView(m, [(0, m.Rows / 2)], "gate half of fused gate_up");
                            slot[TensorRole.MlpUp] = new RowSelectionView(m, [(m.Rows / 2, m.Rows / 2)], "up half of fused gate_up");
                            break;
                        default:
                            ctx.Note($"{src.OriginalName}: no expert role for key '{key}'");
                            break;
                    }
                }
            }

            StackedExperts(Slot);
            int count = routed.Count == 0 ? 0 : routed.Keys.Max() + 1;
            int perGroup = layout.ExpertGroups > 0 && count >= layout.ExpertGroups ? count / layout.ExpertGroups : 0;
            var list = new List<ExpertView>();
            if (shared != null) list.Add(new ExpertView(0, true, shared));
            foreach (var (e, t) in routed) list.Add(new ExpertView(e, false, t, perGroup > 0 ? e / perGroup : -1));
            return list;
        }

        /// <summary>Experts stored stacked in one tensor per projection: GGUF *_exps [experts, out, in];
        /// gpt-oss gate_up_proj [experts, in, 2·ff] (gate and up interleaved by column) and down_proj
        /// [experts, ff, hidden]; gpt-oss MXFP4 *_blocks / *_scales.</summary>
        private void StackedExperts(Func<int, Dictionary<TensorRole, TensorView>> slot)
        {
            var w = parts.Weights;
            foreach (var (key, role) in new[] { ("exps_gate", TensorRole.MlpGate), ("exps_up", TensorRole.MlpUp), ("exps_down", TensorRole.MlpDown) })
            {
                if (!w.TryGetValue(key, out var src) || Stacked(src, 3) is not { } t) continue;
                long e = t.Shape[0], rows = t.Shape[1], cols = t.Shape[2];
                for (int i = 0; i < e; i++) slot(i)[role] = new SliceView(t, i * rows * cols, rows, cols, $"expert {i}");
            }

            if (w.TryGetValue("exps_gate_up_t", out var gu) && Stacked(gu, 3) is { } gut)
            {
                long e = gut.Shape[0], inF = gut.Shape[1], two = gut.Shape[2];
                if (two % 2 == 0)
                {
                    for (int i = 0; i < e; i++)
                    {
                        slot(i)[TensorRole.MlpGate] = new TransposedView(gut, i * inF * two, inF, two, 0, two / 2, 2, $"expert {i} gate: even columns, transposed");
                        slot(i)[TensorRole.MlpUp] = new TransposedView(gut, i * inF * two, inF, two, 1, two / 2, 2, $"expert {i} up: odd columns, transposed");
                    }
                }
            }

            if (w.TryGetValue("exps_down_t", out var dn) && Stacked(dn, 3) is { } dnt)
            {
                long e = dnt.Shape[0], ff = dnt.Shape[1], hid = dnt.Shape[2];
                for (int i = 0; i < e; i++) slot(i)[TensorRole.MlpDown] = new TransposedView(dnt, i * ff * hid, ff, hid, 0, hid, 1, $"expert {i}, transposed");
            }

            if (w.TryGetValue("exps_gate_up_blocks", out var gb) && w.TryGetValue("exps_gate_up_scales", out var gs) && gb.Tensor is { } gbt && gs.Tensor is { } gst && gbt.Shape.Count == 4)
            {
                long rows = gbt.Shape[1];
                for (int i = 0; i < gbt.Shape[0]; i++)
                {
                    slot(i)[TensorRole.MlpGate] = new Mxfp4View(gbt, gst, i, 0, 2, rows / 2, $"expert {i} gate: even rows, MXFP4");
                    slot(i)[TensorRole.MlpUp] = new Mxfp4View(gbt, gst, i, 1, 2, rows / 2, $"expert {i} up: odd rows, MXFP4");
                }
            }

            if (w.TryGetValue("exps_down_blocks", out var db) && w.TryGetValue("exps_down_scales", out var ds) && db.Tensor is { } dbt && ds.Tensor is { } dst && dbt.Shape.Count == 4)
            {
                for (int i = 0; i < dbt.Shape[0]; i++) slot(i)[TensorRole.MlpDown] = new Mxfp4View(dbt, dst, i, 0, 1, dbt.Shape[1], $"expert {i}, MXFP4");
            }
        }

        private Formats.TensorInfo? Stacked(WeightSource src, int rank)
        {
            if (src.Tensor is { } t && t.Shape.Count == rank) return t;
            ctx.Note($"{src.OriginalName}: stacked expert tensor of shape {(src.Tensor?.ShapeText ?? "(LoRA)")} is not [experts, rows, columns]; its experts were not mapped");
            return null;
        }
    }
}
