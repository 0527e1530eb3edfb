"""The auditor report's Jinja2 template (kept in a module so it ships inside the package)."""

from __future__ import annotations

__all__ = ["TEMPLATE"]

_CSS = """
@page { size: A4; margin: 14mm 14mm 16mm 14mm; }
* { box-sizing: border-box; }
html { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
body { font: 9.5pt/1.4 "DejaVu Sans", "Liberation Sans", Arial, sans-serif; color: #1d232a; margin: 0 auto;
       max-width: 182mm; padding: 8mm 0; }
@media print { body { padding: 0; max-width: none; } }
h1 { font-size: 20pt; margin: 0 0 2mm; }
h2 { font-size: 13pt; margin: 7mm 0 2.5mm; border-bottom: 1.5px solid #1f4e79; padding-bottom: 1mm; color: #1f4e79;
     break-after: avoid; }
h3 { font-size: 10.5pt; margin: 4mm 0 1.5mm; break-after: avoid; }
p { margin: 1mm 0 2mm; }
.break { break-before: page; }
.dim { color: #667; }
.small { font-size: 8pt; }
code { font-family: "DejaVu Sans Mono", monospace; font-size: 8pt; overflow-wrap: anywhere; }
table { width: 100%; border-collapse: collapse; font-size: 8.3pt; margin: 1mm 0 3mm; }
thead { display: table-header-group; }
tr { break-inside: avoid; }
th, td { text-align: left; vertical-align: top; padding: 1.2mm 1.6mm; border-bottom: 0.6px solid #d5d9de; }
thead th { background: #eef2f6; font-weight: 600; border-bottom: 1px solid #9aa5b1; }
td.nw { white-space: nowrap; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
table.kv { margin: 0; font-size: 8pt; width: auto; }
table.kv th { font-weight: normal; color: #445; padding: 0.4mm 3mm 0.4mm 0; border: 0; background: none; }
table.kv td { padding: 0.4mm 0; border: 0; font-variant-numeric: tabular-nums; }
table.kv table.kv th { padding-left: 0; }
.kv-cols { display: flex; gap: 8mm; align-items: flex-start; }
.cover { min-height: 240mm; display: flex; flex-direction: column; }
.cover .kicker { text-transform: uppercase; letter-spacing: 0.12em; color: #1f4e79; font-size: 9pt; margin-top: 30mm; }
.cover dl { display: grid; grid-template-columns: 42mm 1fr; gap: 1.5mm 4mm; margin: 8mm 0; font-size: 10pt; }
.cover dt { color: #556; }
.cover dd { margin: 0; }
.box { border: 1px solid #c9d1da; border-radius: 2mm; padding: 3mm 4mm; margin: 3mm 0; break-inside: avoid; }
.summary { display: flex; gap: 3mm; margin: 2mm 0; }
.summary div { flex: 1; border: 1px solid #c9d1da; border-radius: 2mm; padding: 2mm 3mm; }
.summary b { display: block; font-size: 15pt; }
.metric { display: grid; grid-template-columns: 50mm 1fr; gap: 4mm; border: 1px solid #c9d1da; border-radius: 2mm;
          padding: 3mm 4mm; margin: 0 0 3mm; break-inside: avoid; }
.metric .value { font-size: 20pt; font-weight: 700; color: #1f4e79; line-height: 1.1; }
.metric .title { font-weight: 600; font-size: 10pt; }
.metric .note { font-size: 7.8pt; color: #556; margin: 1.5mm 0 0; }
.charts { display: grid; grid-template-columns: 1fr 1fr; gap: 3mm 4mm; }
figure { margin: 0; break-inside: avoid; }
figure svg { width: 100%; height: auto; display: block; }
figcaption { font-size: 7.5pt; color: #667; }
.light { display: inline-block; width: 3.2mm; height: 3.2mm; border-radius: 50%; vertical-align: -0.5mm;
         border: 0.5px solid rgba(0,0,0,0.35); }
.light.green { background: #2e7d32; } .light.amber { background: #f2a900; } .light.red { background: #c62828; }
.status { white-space: nowrap; font-weight: 600; text-transform: uppercase; font-size: 7.8pt; }
.bad { color: #b71c1c; font-weight: 600; } .ok { color: #2e7d32; font-weight: 600; }
#checklist, #retention, #dsar, #training, #reviews, #use, #audit { break-inside: avoid; }
.toc { columns: 2; font-size: 9pt; padding-left: 5mm; }
"""

TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>Compliance report {{ d.period.first_day }} to {{ d.period.last_day }}</title>
<style>""" + _CSS + """</style></head>
<body>
{% set cp = d.audit.checkpoint %}
{% set lights = {'green': 0, 'amber': 0, 'red': 0} %}
<section class="cover" id="cover">
  <div class="kicker">replayvault · compliance report for auditors</div>
  <h1>Compliance report</h1>
  <p class="dim">{{ d.period.first_day }} to {{ d.period.last_day }} (UTC, both days included)</p>
  <dl>
    <dt>Project(s)</dt><dd>{{ d.projects|join(', ') or 'none' }}{% if not d.period.project %} (all projects){% endif %}</dd>
    <dt>Period</dt><dd>{{ d.period.from_ms|when }} to {{ d.period.to_ms|when }} (end excluded)</dd>
    <dt>Weeks</dt><dd>{{ d.weeks|length }} ISO weeks{% set p = d.weeks|selectattr('partial')|list %}{% if p %}, {{ p|length }} partial{% endif %}</dd>
    <dt>Generated at</dt><dd>{{ d.generated_ms|when }}</dd>
    <dt>Generator</dt><dd>{{ d.generator.name }} {{ d.generator.version }}</dd>
    <dt>Audit log</dt><dd>{% if d.audit.ok %}<span class="ok">verifies</span>, {{ d.audit.entries|num }} entries{% else %}<span class="bad">verification FAILED</span>: {{ d.audit.problems|join('; ') }}{% endif %}</dd>
    <dt>Latest signed checkpoint</dt><dd>{% if cp %}tree size {{ cp.tree_size|num }}, signed {{ cp.created_ms|when }}<br>
      root hash <code>{{ cp.root_hash }}</code><br>key <code>{{ cp.key_name }}</code>, key id <code>{{ cp.key_id }}</code>;
      signature {% if cp.signature_verified %}<span class="ok">verified</span>{% else %}<span class="bad">does not verify</span> ({{ cp.problem }}){% endif %}
      {% else %}<span class="bad">none signed yet</span>{% endif %}</dd>
  </dl>
  <div class="summary">
  {% for st in ['green', 'amber', 'red'] %}<div><span class="light {{ st }}"></span> {{ st }}<b>{{ d.checklist|selectattr('status', 'equalto', st)|list|length }}</b><span class="small dim">checklist items</span></div>{% endfor %}
  </div>
  <div class="box small">This document does not contain its own SHA-256 digest: writing it records a
  <code>report.generated</code> entry in the audit log with the file's SHA-256 and the period
  (<code>replayvault audit log --action report.generated</code> shows it). Verify a copy with <code>sha256sum</code>.
  Session ids are pseudonymous and shortened; DSAR subjects appear only as request ids; staff by user name.</div>
  <h3>Contents</h3>
  <ol class="toc"><li>Metrics</li><li>Weekly trends</li><li>Incidents by kind</li><li>Checklist</li><li>Retention</li>
  <li>Data subject requests</li><li>Staff training</li><li>Access reviews</li><li>Use of recordings by purpose</li><li>Audit log</li></ol>
</section>

<section class="break" id="metrics">
<h2>1. Metrics</h2>
<p class="small dim">Over the whole period: sessions whose first batch or consent call arrived in it. Shares are
numerator / denominator; the incident rate counts incidents per 1,000 recorded sessions.</p>
{% for m in d.metrics %}
<div class="metric" id="m-{{ m.name }}">
  <div><div class="title">{{ m.title }}</div><div class="value">{{ m|value }}</div>
  <div class="small">{{ m.numerator|num }} / {{ m.denominator|num }}{% if m.unit != 'share' %} · per 1,000 sessions{% endif %}</div></div>
  <div><div class="small">{{ m.definition }}</div>{{ m.detail|kv }}
  {% for n in m.notes %}<p class="note">Note: {{ n }}</p>{% endfor %}</div>
</div>
{% endfor %}
</section>

<section class="break" id="trends">
<h2>2. Weekly trends</h2>
<p class="small dim">Each metric computed per ISO week (Monday 00:00 UTC) over the sessions of that week;
* marks a partial week cut by the period. Retention is evaluated now for the sessions of each week.
Empty weeks have no value (a gap in the line).</p>
<div class="charts">
{% for c in charts %}<figure id="chart-{{ c.name }}">{{ c.svg }}</figure>{% endfor %}
</div>
</section>
<section class="break" id="weekly-values">
<h3>Weekly values</h3>
<p class="small dim">Value and numerator/denominator of each metric per week; the incident rate per 1,000 recorded sessions.</p>
<table id="weekly">
<thead><tr><th>Week</th><th>Days</th>{% for m in d.metrics %}<th class="n">{{ SHORT.get(m.name, m.title) }}</th>{% endfor %}</tr></thead>
<tbody>
{% for w in d.weeks %}<tr><td>{{ w.label }}{% if w.partial %} <span class="dim">(partial)</span>{% endif %}</td><td class="small nw">{{ w.first_day[5:] }}{% if w.days > 1 %} – {{ w.last_day[5:] }}{% endif %}</td>
{% for m in d.metrics %}{% set v = w.metrics[m.name] %}<td class="n">{{ {'value': v.value, 'unit': m.unit}|value }}<br><span class="dim small">{{ v.numerator|num }}/{{ v.denominator|num }}</span></td>{% endfor %}</tr>
{% endfor %}</tbody></table>
</section>

<section id="incidents">
<h2>3. Incidents by kind</h2>
<p class="small">{{ d.incidents.sessions|num }} recorded sessions in the period.</p>
<table style="width:auto"><thead><tr><th>kind</th><th class="n">count</th><th class="n">per 1,000 sessions</th></tr></thead><tbody>
{% for k, n in d.incidents.counts.items() %}<tr><td>{{ k|replace('_', ' ') }}</td><td class="n">{{ n|num }}</td><td class="n">{% set r = d.incidents.per_1000[k] %}{{ '–' if r is none else '{:,.1f}'.format(r) }}</td></tr>{% endfor %}
</tbody></table>
{% for n in d.incidents.notes %}<p class="small dim">Note: {{ n }}</p>{% endfor %}
</section>

<section id="checklist">
<h2>4. Checklist</h2>
<table><thead><tr><th style="width:38mm">Item</th><th style="width:20mm">Status</th><th>Evidence</th></tr></thead><tbody>
{% for i in d.checklist %}<tr id="c-{{ i.key }}"><td>{{ i.title }}</td><td class="status"><span class="light {{ i.status }}"></span> {{ i.status }}</td><td>{{ i.evidence }}</td></tr>{% endfor %}
</tbody></table>
<p class="small dim">Rules and thresholds: README, "Compliance metrics and checklist". Retention is judged over all time, the other items over the period or now.</p>
</section>

<section id="retention">
<h2>5. Retention</h2>
{% set r = d.retention %}
<table><thead><tr><th>Project</th><th class="n">default days</th><th>jurisdiction</th><th class="n">categories</th><th class="n">live</th><th class="n">expiring ≤ 7 d</th><th class="n">awaiting sweep</th><th class="n">held</th><th class="n">shredded</th></tr></thead><tbody>
{% for p in r.projects %}<tr><td>{{ p.project_id }}</td><td class="n">{{ p.default_days }}</td><td>{{ p.jurisdiction or '–' }}</td><td class="n">{{ p.categories|length }}</td><td class="n">{{ p.live|num }}</td><td class="n">{{ p.expiring_7d|num }}</td><td class="n {{ 'bad' if p.awaiting_sweep }}">{{ p.awaiting_sweep|num }}</td><td class="n">{{ p.held|num }}</td><td class="n">{{ p.shredded|num }}</td></tr>
{% else %}<tr><td colspan="9" class="dim">No project.</td></tr>{% endfor %}</tbody></table>
<p>In the period: {{ r.sessions_deleted|num }} session(s) deleted by retention sweeps (crypto-shredded), {{ r.certificates|length }} deletion certificate(s) issued, {{ r.holds_placed|num }} legal hold(s) placed and {{ r.holds_released|num }} released.</p>
{% if r.certificates %}<table><thead><tr><th>Certificate</th><th>issued</th><th>reason</th><th class="n">sessions</th><th class="n">checkpoint</th><th>SHA-256</th></tr></thead><tbody>
{% for c in r.certificates %}<tr><td><code>{{ c.id }}</code></td><td>{{ c.created_ms|when }}</td><td>{{ c.reason }}</td><td class="n">{{ c.sessions|num }}</td><td class="n">{{ c.checkpoint_size|num }}</td><td><code>{{ c.sha256 }}</code></td></tr>{% endfor %}
</tbody></table>{% endif %}
<h3>Active legal holds ({{ r.active_holds|length }})</h3>
{% if r.active_holds %}<table><thead><tr><th>Session</th><th>project</th><th>placed</th><th>placed by</th></tr></thead><tbody>
{% for h in r.active_holds %}<tr><td><code>{{ h.session }}</code></td><td>{{ h.project or '–' }}</td><td>{{ h.placed_ms|when }}</td><td>{{ h.placed_by }}</td></tr>{% endfor %}
</tbody></table><p class="small dim">Reasons are free text and stay on the /retention page.</p>{% else %}<p class="dim">None.</p>{% endif %}
</section>

<section id="dsar">
<h2>6. Data subject requests</h2>
{% set s = d.dsar %}
<p>Opened in the period: {{ s.opened }} · completed in the period: {{ s.completed }} · open now: {{ s.open }} ·
<span class="{{ 'bad' if s.overdue else '' }}">overdue now: {{ s.overdue }}</span> · completed after their due date: {{ s.completed_late }}.</p>
{% if s.note %}<p class="small dim">{{ s.note }}</p>{% endif %}
{% if s.requests %}<table><thead><tr><th>Request</th><th>kind</th><th>status</th><th>opened</th><th>due</th><th>completed</th><th class="n">sessions</th></tr></thead><tbody>
{% for q in s.requests %}<tr><td><code>{{ q.id }}</code></td><td>{{ q.kind }}</td><td class="{{ 'bad' if q.overdue }}">{{ q.status }}{% if q.overdue %} (overdue){% endif %}</td><td>{{ q.created_ms|day }}</td><td>{{ q.due_ms|day }}</td><td>{{ q.completed_ms|day }}</td><td class="n">{{ q.sessions if q.sessions is not none else '–' }}</td></tr>{% endfor %}
</tbody></table>{% else %}<p class="dim">No request in the period.</p>{% endif %}
</section>

<section id="training">
<h2>7. Staff training</h2>
{% set t = d.training %}
<p>Staff who may read recordings: {{ t.current }} current, {{ t.expired }} expired, {{ t.missing }} missing (an attestation is current for {{ t.max_age_days }} days).</p>
<table><thead><tr><th>User</th><th>roles</th><th>reads recordings</th><th>latest training</th><th>status</th></tr></thead><tbody>
{% for u in t.users %}<tr><td>{{ u.username }}</td><td>{{ u.roles|join(', ') or '–' }}</td><td>{{ 'yes' if u.reads_recordings else 'no' }}</td><td>{{ u.latest or '–' }}</td><td class="{{ 'bad' if u.reads_recordings and u.status != 'current' }}">{{ u.status }}</td></tr>
{% else %}<tr><td colspan="5" class="dim">No active account.</td></tr>{% endfor %}</tbody></table>
</section>

<section id="reviews">
<h2>8. Access reviews</h2>
{% set v = d.reviews.status %}
<p>Every {{ v.period_days }} days (+{{ v.grace_days }} days' grace): <span class="{{ 'bad' if v.overdue else 'ok' }}">{{ 'overdue' if v.overdue else 'on schedule' }}</span> — {{ v.reason }}.
Last completed: {{ v.last_completed_ms|day }}; next due: {{ v.next_due_ms|day }}.</p>
{% if d.reviews.reviews %}<table><thead><tr><th>Review</th><th>status</th><th>opened</th><th>due</th><th>closed</th><th class="n">items</th><th class="n">attested</th><th class="n">revoked</th><th class="n">undecided</th></tr></thead><tbody>
{% for x in d.reviews.reviews %}<tr><td><code>{{ x.id }}</code></td><td>{{ x.status }}{% if x.overdue %} <span class="bad">(overdue)</span>{% endif %}</td><td>{{ x.opened_ms|day }}</td><td>{{ x.due_ms|day }}</td><td>{{ x.closed_ms|day }}</td><td class="n">{{ x.total }}</td><td class="n">{{ x.attested }}</td><td class="n">{{ x.revoked }}</td><td class="n">{{ x.undecided }}</td></tr>{% endfor %}
</tbody></table>{% else %}<p class="dim">No access review open or closed in the period.</p>{% endif %}
</section>

<section id="use">
<h2>9. Use of recordings by purpose</h2>
{% set u = d.use %}
<p class="small dim">Audit entries in the period that show a person declared access to, viewed, sought in or exported a
recording, by the purpose declared (counted per entry; refusals apart).</p>
{% if u.by_purpose %}<table><thead><tr><th>Purpose</th>{% for a in u.actions %}<th class="n">{{ a|replace('_', ' ') }}</th>{% endfor %}<th class="n">refused</th></tr></thead><tbody>
{% for p, c in u.by_purpose.items() %}<tr><td>{{ p|replace('_', ' ') }}</td>{% for a in u.actions %}<td class="n">{{ c.get(a, 0) }}</td>{% endfor %}<td class="n">{{ u.denied_by_purpose.get(p, 0) }}</td></tr>{% endfor %}
{% for p, n in u.denied_by_purpose.items() if p not in u.by_purpose %}<tr><td>{{ p|replace('_', ' ') }}</td>{% for a in u.actions %}<td class="n">0</td>{% endfor %}<td class="n">{{ n }}</td></tr>{% endfor %}
</tbody></table>{% else %}<p class="dim">No recording was read in the period.</p>{% endif %}
<h3>Heatmaps</h3>
<p id="heatmap-use">{{ u.heatmaps.note }}.</p>
</section>

<section id="audit">
<h2>10. Audit log</h2>
<div class="box">
<p>{% if d.audit.ok %}<span class="ok">The audit log verifies</span>: {{ d.audit.entries|num }} entries, every leaf hash recomputed and the Merkle tree consistent with the stored checkpoints.{% else %}<span class="bad">The audit log does not verify</span>: {{ d.audit.problems|join('; ') }}{% endif %}</p>
{% if cp %}<table class="kv">
<tr><th>checkpoint origin</th><td><code>{{ cp.origin }}</code></td></tr>
<tr><th>tree size</th><td>{{ cp.tree_size|num }}</td></tr>
<tr><th>root hash (base64)</th><td><code>{{ cp.root_hash }}</code></td></tr>
<tr><th>root hash (hex)</th><td><code>{{ cp.root_hash_hex }}</code></td></tr>
<tr><th>signed at</th><td>{{ cp.created_ms|when }}</td></tr>
<tr><th>signature key</th><td><code>{{ cp.key_name }}</code> id <code>{{ cp.key_id }}</code></td></tr>
<tr><th>verifier key</th><td><code>{{ cp.verifier_key }}</code></td></tr>
<tr><th>signature</th><td>{% if cp.signature_verified %}<span class="ok">verified</span> with the verifier key{% else %}<span class="bad">does not verify</span>: {{ cp.problem }}{% endif %}</td></tr>
</table>{% else %}<p class="bad">No checkpoint has been signed yet (replayvault audit checkpoint).</p>{% endif %}
</div>
<p class="small dim">Verify offline: <code>replayvault audit verify</code>; an entry's inclusion proof: <code>replayvault audit proof IDX</code>, checked with <code>replayvault audit verify-proof BUNDLE --key KEY</code> and the verifier key above.</p>
</section>
</body></html>
"""
