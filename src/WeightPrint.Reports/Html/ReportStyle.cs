namespace WeightPrint.Reports.Html;

/// <summary>The report's inline stylesheet: no web fonts, no external resources, readable from phone to desktop.</summary>
internal static class ReportStyle
{
    public const string Css = """
        :root { --fg: #1d232a; --muted: #5b6670; --line: #d8dee4; --bg: #ffffff; --panel: #f5f7f9;
                --derived: #b3261e; --independent: #1e7b34; --inconclusive: #8a5a00; }
        * { box-sizing: border-box; }
        html { -webkit-text-size-adjust: 100%; text-size-adjust: 100%; }
        body { margin: 0; background: var(--bg); color: var(--fg);
               font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; }
        main { max-width: 1180px; margin: 0 auto; padding: 1rem 1rem 3rem; }
        header { border-bottom: 1px solid var(--line); margin-bottom: 1rem; }
        h1 { font-size: 1.6rem; margin: .6rem 0 .2rem; overflow-wrap: anywhere; }
        h2 { font-size: 1.3rem; margin: 2rem 0 .6rem; padding-bottom: .2rem; border-bottom: 1px solid var(--line); }
        h3 { font-size: 1.1rem; margin: 1.6rem 0 .4rem; }
        p, li, dd { overflow-wrap: anywhere; }
        .sub { color: var(--muted); margin: 0 0 .8rem; }
        .verdict { border-radius: 10px; padding: 1rem 1.2rem; margin: 1rem 0; background: var(--panel); border-left: 8px solid var(--inconclusive); }
        .verdict .label { font-size: 1.7rem; font-weight: 700; letter-spacing: .04em; text-transform: uppercase; }
        .verdict p { margin: .3rem 0 0; }
        .v-derived { border-left-color: var(--derived); } .v-derived .label, td.v-derived { color: var(--derived); }
        .v-independent { border-left-color: var(--independent); } .v-independent .label, td.v-independent { color: var(--independent); }
        .v-inconclusive .label, td.v-inconclusive { color: var(--inconclusive); }
        td.v-derived, td.v-independent, td.v-inconclusive { font-weight: 600; }
        .scroll { overflow-x: auto; -webkit-overflow-scrolling: touch; margin: .6rem 0 1rem; }
        table { border-collapse: collapse; font-size: .92rem; min-width: 100%; }
        th, td { text-align: left; vertical-align: top; padding: .35rem .6rem; border-bottom: 1px solid var(--line); }
        th { background: var(--panel); font-weight: 600; white-space: nowrap; }
        td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
        td.wide { min-width: 16rem; }
        table.pairs td:first-child, table.pair-scores td:first-child { white-space: nowrap; }
        .num { font-variant-numeric: tabular-nums; }
        code, .path { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: .88em; }
        code { overflow-wrap: anywhere; }
        .path { overflow-wrap: break-word; word-break: normal; }
        td.path { min-width: 24ch; }
        .figs { display: grid; grid-template-columns: repeat(auto-fill, minmax(min(100%, 440px), 1fr)); gap: 1rem; margin: .8rem 0; }
        figure { margin: 0; padding: .5rem; border: 1px solid var(--line); border-radius: 8px; background: #fff; }
        figure img { display: block; width: 100%; height: auto; }
        figcaption { font-size: .85rem; color: var(--muted); margin-top: .4rem; overflow-wrap: anywhere; }
        details { margin: .6rem 0; } summary { cursor: pointer; color: var(--muted); }
        dl.method { margin: .4rem 0 1.2rem; } dl.method dt { font-weight: 600; margin-top: .4rem; } dl.method dd { margin: 0 0 0 1rem; }
        .note { color: var(--muted); font-size: .9rem; }
        footer { margin-top: 3rem; color: var(--muted); font-size: .85rem; border-top: 1px solid var(--line); padding-top: .6rem; }
        @media (max-width: 600px) {
          main { padding: .6rem .6rem 2rem; } h1 { font-size: 1.3rem; } .verdict .label { font-size: 1.4rem; } th, td { padding: .3rem .4rem; }
          table.stack thead { display: none; }
          table.stack, table.stack tbody, table.stack tr, table.stack td, table.stack tr > th { display: block; width: 100%; min-width: 0; }
          table.stack tr { border-bottom: 2px solid var(--line); padding: .3rem 0; }
          table.stack td, table.stack td.n { border: none; text-align: left; padding: .1rem .2rem; white-space: normal; }
          table.stack td[data-label]::before { content: attr(data-label) ": "; font-weight: 600; color: var(--muted); }
        }
        @media print { .scroll { overflow: visible; } figure { break-inside: avoid; } }
        """;
}
