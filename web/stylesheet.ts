import { sha256Hex } from '../core/ids.ts';

/**
 * The dashboard's one stylesheet, served by the hub at {@link STYLESHEET_PATH}: the pages carry no
 * `<style>` block and no `style=` attribute, so the Content-Security-Policy can say `style-src 'self'`.
 * The path names a hash of the content, so browsers may keep it for a year.
 */
export const STYLESHEET = `
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1f2328;background:#f6f8fa;line-height:1.45;overflow-wrap:break-word}
/* Refs, addresses and titles from the tools can be one long word: they may break anywhere, names and words may not. */
td a,td small,td li,li small,li a,code,h1{overflow-wrap:anywhere}
a{color:#0550ae}
header.site{background:#24292f;color:#fff;padding:.5rem 1rem;display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:center}
header.site a{color:#fff;text-decoration:none}header.site a:hover,header.site a:focus{text-decoration:underline}
header.site .brand{font-weight:700;margin-right:auto}
header.site nav ul{list-style:none;margin:0;padding:0;display:flex;flex-wrap:wrap;gap:.25rem 1rem}
header.site form{margin:0;display:flex;gap:.25rem}
header.site input[type=search]{width:12rem;max-width:45vw}
.visually-hidden{position:absolute!important;width:1px;height:1px;margin:-1px;padding:0;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap;border:0}
main{max-width:76rem;margin:0 auto;padding:1rem}
h1{font-size:1.6rem;margin:.5rem 0}h2{font-size:1.25rem;margin:1.5rem 0 .5rem}h3{font-size:1.05rem;margin:1rem 0 .4rem}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(8.5rem,1fr));gap:.75rem}
.card{background:#fff;border:1px solid #d0d7de;border-radius:6px;padding:.6rem .75rem}
.card b{display:block;font-size:1.5rem}
.headline{background:#ddf4ff;border:1px solid #54aeff;border-radius:6px;padding:.6rem .75rem}
table{width:100%;border-collapse:collapse;background:#fff}
th,td{text-align:left;padding:.35rem .45rem;border-bottom:1px solid #d0d7de;vertical-align:top}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
form.filters{display:flex;flex-wrap:wrap;gap:.5rem;margin:1rem 0;align-items:flex-end}
form.filters label{display:flex;flex-direction:column;font-size:.85rem}
input,select,button{font:inherit;padding:.3rem;max-width:100%}
.status{font-size:.8rem;padding:.05rem .45rem;border-radius:1rem;background:#eaeef2;color:#1f2328;white-space:nowrap}
.status.done,.status.merged{background:#dafbe1}.status.blocked,.status.critical{background:#ffebe9}.status.warning,.status.waiting{background:#fff8c5}
.source{font-size:.75rem;font-weight:600;text-transform:uppercase;letter-spacing:.02em;color:#57606a}
small,.muted{color:#57606a}
.meta{display:flex;flex-wrap:wrap;gap:.25rem .75rem;align-items:center}
dl.fields{display:grid;grid-template-columns:max-content 1fr;gap:.3rem 1rem;background:#fff;border:1px solid #d0d7de;border-radius:6px;padding:.75rem;margin:1rem 0}
dl.fields dt{font-weight:600}dl.fields dd{margin:0}
ul.tree,ul.tree ul{list-style:none;padding-left:1.1rem;margin:.2rem 0}
ul.tree{padding-left:0}
ul.tree li{margin:.3rem 0;padding-left:.5rem;border-left:2px solid #d0d7de}
ul.plain{list-style:none;padding:0}ul.plain li{margin:.35rem 0}
ol.timeline{list-style:none;padding:0;margin:0;background:#fff;border:1px solid #d0d7de;border-radius:6px}
ol.timeline li{padding:.4rem .75rem;border-bottom:1px solid #eaeef2}
ol.timeline li:last-child{border-bottom:0}
ul.alerts{list-style:none;padding:0}ul.alerts li{background:#fff;border:1px solid #d0d7de;border-left:4px solid #bf8700;border-radius:6px;padding:.5rem .75rem;margin:.4rem 0}
ul.alerts li.critical{border-left-color:#cf222e}ul.alerts li.resolved{border-left-color:#8c959f}
ol.chains li{margin:.3rem 0}
figure.chart{margin:1rem 0;background:#fff;border:1px solid #d0d7de;border-radius:6px;padding:.75rem}
figure.chart figcaption{font-weight:600;margin-bottom:.5rem}
.chart-body{display:grid;grid-template-columns:minmax(0,3fr) minmax(0,2fr);gap:1rem;align-items:start}
.chart-body table{font-size:.85rem}
.chart-body th,.chart-body td{overflow-wrap:normal;white-space:nowrap}
svg{max-width:100%;height:auto}
.grid2{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,22rem),1fr));gap:1rem}
p.error{color:#a40e26;font-weight:600}
@media (max-width:40rem){
  td.optional,th.optional{display:none}
  main{padding:.5rem}
  .chart-body{grid-template-columns:minmax(0,1fr)}
  header.site input[type=search]{width:9rem}
}
`;

export const STYLESHEET_PATH = `/assets/tributary.${sha256Hex(STYLESHEET).slice(0, 12)}.css`;
