//! The report as one self-contained HTML page a lawyer can read: the answer first, then
//! the rules, the attribution statement, the evidence, and how to reproduce it.
//!
//! No script, no external asset; every string from the report is escaped. Prints on A4
//! and Letter.

use std::fmt::Write;

use tracemark_core::{
    Fact,
    fact::{
        Claim, CredentialState, DetectorAccess, LatentDisclosureFields, MiningPurpose,
        OrganisationType,
    },
};

use crate::{
    Outcome,
    report::{EvidenceReport, Measurement, Origin},
    text::{escape, p_value, percent},
};

const CSS: &str = r#"
:root{--ink:#1d232b;--muted:#5b6573;--line:#d9dee5;--paper:#fff;--wash:#f5f7fa;
--ai:#f6d7b0;--ai-ink:#8a4b08;--src:#cfe0fb;--src-ink:#1c4f9c;--un:#eef0f3;--un-ink:#5b6573;
--ok:#1f7a4d;--bad:#b42318;--ex:#2457a6;--na:#6b7280;--nya:#a15c07;--und:#6d3fb2}
*{box-sizing:border-box}
html{background:var(--wash)}
body{margin:0;color:var(--ink);font:15px/1.55 Georgia,"Times New Roman",serif}
main{max-width:980px;margin:24px auto;background:var(--paper);padding:40px 48px;border:1px solid var(--line)}
h1,h2,h3,.kicker,th,.badge,.meta dt,.legend,footer{font-family:"Helvetica Neue",Arial,sans-serif}
h1{font-size:28px;margin:4px 0 16px}
h2{font-size:19px;margin:36px 0 12px;padding-bottom:6px;border-bottom:2px solid var(--ink)}
h3{font-size:15px;margin:22px 0 8px;color:var(--muted);text-transform:uppercase;letter-spacing:.04em}
.kicker{font-size:12px;letter-spacing:.12em;text-transform:uppercase;color:var(--muted)}
.meta{display:grid;grid-template-columns:max-content 1fr;gap:4px 18px;margin:0;font-size:13px}
.meta dt{color:var(--muted)}
.meta dd{margin:0;overflow-wrap:anywhere}
code,.mono{font-family:"SFMono-Regular",Menlo,Consolas,monospace;font-size:12.5px}
.answer{background:var(--wash);border-left:5px solid var(--ink);padding:14px 20px;margin:8px 0 14px}
.answer ul{margin:0;padding-left:18px}
.answer li{margin:4px 0}
.bar{display:flex;height:18px;border:1px solid var(--line);margin:10px 0 6px}
.bar span{display:block;height:100%}
.legend{font-size:12px;color:var(--muted)}
.legend i{display:inline-block;width:10px;height:10px;margin:0 4px 0 12px;vertical-align:middle;border:1px solid var(--line)}
.sw-ai{background:var(--ai)}.sw-source{background:var(--src)}.sw-unattributed{background:var(--un)}
table{width:100%;border-collapse:collapse;font-size:13.5px;margin:6px 0}
th{text-align:left;font-size:11.5px;text-transform:uppercase;letter-spacing:.05em;color:var(--muted);border-bottom:1px solid var(--ink);padding:6px 8px}
td{vertical-align:top;border-bottom:1px solid var(--line);padding:8px}
tr{break-inside:avoid}
.badge{display:inline-block;font-size:11px;font-weight:700;text-transform:uppercase;letter-spacing:.04em;padding:2px 7px;border-radius:3px;color:#fff;white-space:nowrap}
.o-compliant{background:var(--ok)}.o-non_compliant{background:var(--bad)}.o-exempt{background:var(--ex)}
.o-not_applicable{background:var(--na)}.o-not_yet_applicable{background:var(--nya)}.o-undetermined{background:var(--und)}
.rule-id{font-family:"Helvetica Neue",Arial,sans-serif;font-weight:700}
.cite{color:var(--muted);font-size:12.5px}
.refs a{color:var(--src-ink);text-decoration:none;margin-right:4px}
.statement p{margin:8px 0}
.caveat{font-style:italic;color:var(--muted);border-top:1px solid var(--line);padding-top:8px}
pre.content{white-space:pre-wrap;overflow-wrap:anywhere;font:14px/1.7 Georgia,serif;background:var(--paper);border:1px solid var(--line);padding:16px 18px;margin:6px 0}
pre.content mark{color:inherit;padding:1px 0}
mark.ai{background:var(--ai);border-bottom:2px solid var(--ai-ink)}
mark.source{background:var(--src);border-bottom:2px solid var(--src-ink)}
mark.unattributed{background:transparent}
.cmd{background:var(--ink);color:#f5f7fa;padding:10px 14px;white-space:pre-wrap;overflow-wrap:anywhere}
pre.mono{white-space:pre-wrap;overflow-wrap:anywhere}
.small{font-size:12.5px;color:var(--muted)}
ul.limits li{margin:3px 0}
footer{font-size:11.5px;color:var(--muted);margin-top:36px;border-top:1px solid var(--line);padding-top:10px}
@page{margin:16mm}
@media print{html{background:#fff}main{margin:0;border:0;padding:0;max-width:none}
h2{break-after:avoid}.badge,.bar span,mark,.cmd{-webkit-print-color-adjust:exact;print-color-adjust:exact}
.refs a{color:inherit}}
"#;

fn e(s: &str) -> String {
    escape(s)
}

/// Renders the report as a self-contained HTML page.
pub fn render_html(report: &EvidenceReport) -> String {
    let mut h = String::with_capacity(32 * 1024);
    let title = report.subject.name.as_deref().unwrap_or("content");
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>Evidence report: {}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<main>\n",
        e(title)
    );
    header(&mut h, report);
    answer(&mut h, report);
    rules(&mut h, report);
    statement(&mut h, report);
    evidence(&mut h, report);
    methods(&mut h, report);
    integrity(&mut h, report);
    let _ = write!(
        h,
        "<footer>Written by {} {} · format {} · this page renders the JSON report; the JSON, \
         with its seal, is the record.</footer>\n</main>\n</body>\n</html>\n",
        e(&report.tool.name),
        e(&report.tool.version),
        e(&report.format)
    );
    h
}

fn header(h: &mut String, r: &EvidenceReport) {
    let s = &r.subject;
    let juris = if r.context.jurisdictions.is_empty() {
        "all supported".to_owned()
    } else {
        r.context
            .jurisdictions
            .iter()
            .map(|j| j.code())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let _ = write!(
        h,
        "<header>\n<div class=\"kicker\">Tracemark · evidence report</div>\n<h1>{}</h1>\n<dl class=\"meta\">\n\
         <dt>Content</dt><dd>{}</dd>\n<dt>SHA-256</dt><dd><code>{}</code></dd>\n\
         <dt>Size, type</dt><dd>{} bytes, {}</dd>\n<dt>Law applied as of</dt><dd>{}</dd>\n\
         <dt>Jurisdictions</dt><dd>{}</dd>\n<dt>Report written</dt><dd>{}</dd>\n</dl>\n</header>\n",
        e(&r.question),
        e(s.name.as_deref().unwrap_or("(unnamed)")),
        e(&s.hash.to_hex()),
        s.bytes,
        e(&s.media_type),
        e(&r.context.as_of.long()),
        e(&juris),
        e(&r.generated_at.to_string()),
    );
}

fn answer(h: &mut String, r: &EvidenceReport) {
    let v = &r.verdict;
    h.push_str("<section>\n<h2>1. The answer</h2>\n<div class=\"answer\"><ul>\n");
    for line in &v.summary {
        let _ = writeln!(h, "<li>{}</li>", e(line));
    }
    h.push_str("</ul></div>\n<div class=\"bar\" role=\"img\" aria-label=\"shares by origin\">");
    for (share, class, label) in [
        (v.ai_share, "ai", "AI-generated"),
        (v.source_share, "source", "copied from sources"),
        (v.unattributed_share, "unattributed", "not attributed"),
    ] {
        if share > 0.0 {
            let _ = write!(
                h,
                "<span class=\"sw-{class}\" style=\"width:{:.3}%\" title=\"{label}: {}\"></span>",
                share * 100.0,
                percent(share)
            );
        }
    }
    let _ = writeln!(
        h,
        "</div>\n<div class=\"legend\"><i class=\"sw-ai\"></i>AI-generated {}<i class=\"sw-source\"></i>copied from sources {}\
         <i class=\"sw-unattributed\"></i>not attributed {}</div>\n</section>",
        percent(v.ai_share),
        percent(v.source_share),
        percent(v.unattributed_share)
    );
}

fn badge(o: Outcome) -> String {
    format!(
        "<span class=\"badge o-{}\">{}</span>",
        o.code(),
        e(o.label())
    )
}

fn fact_refs(facts: &[usize]) -> String {
    if facts.is_empty() {
        return String::new();
    }
    let links: Vec<String> = facts
        .iter()
        .map(|i| format!("<a href=\"#fact-{i}\">#{i}</a>"))
        .collect();
    format!("<div class=\"refs small\">Facts: {}</div>", links.join(" "))
}

fn rules(h: &mut String, r: &EvidenceReport) {
    h.push_str("<section>\n<h2>2. The rules</h2>\n");
    if r.rules.is_empty() {
        h.push_str("<p>No rule was evaluated for the jurisdictions selected.</p>\n</section>\n");
        return;
    }
    h.push_str(
        "<table class=\"rules\">\n<thead><tr><th>Outcome</th><th>Rule</th><th>Binds</th><th>Reason</th></tr></thead>\n<tbody>\n",
    );
    for rule in &r.rules {
        let binds: Vec<&str> = rule.binds.iter().map(|b| b.name()).collect();
        let _ = writeln!(
            h,
            "<tr id=\"rule-{}\"><td>{}</td><td><div class=\"rule-id\">{}</div><div>{}</div><div class=\"cite\">{}</div></td>\
             <td>{}</td><td>{}{}</td></tr>",
            e(&rule.id),
            badge(rule.outcome),
            e(&rule.id),
            e(&rule.title),
            e(&rule.citation),
            e(&binds.join(", ")),
            e(&rule.reason),
            fact_refs(&rule.facts)
        );
    }
    h.push_str("</tbody>\n</table>\n");
    let _ = writeln!(
        h,
        "<p class=\"small\">Outcomes: <b>compliant</b> (the facts satisfy the rule), <b>non-compliant</b>, \
         <b>exempt</b> (an exception applies), <b>not applicable</b>, <b>not yet applicable</b> (on {}), \
         <b>undetermined</b> (the facts it needs could not be established: never read as compliant).</p>\n</section>",
        e(&r.context.as_of.long())
    );
}

fn statement(h: &mut String, r: &EvidenceReport) {
    h.push_str("<section class=\"statement\">\n<h2>3. Attribution statement</h2>\n<p class=\"small\">Suitable for a copyright-registration disclosure (material to exclude from the claim, and the author's share).</p>\n");
    for p in &r.statement.paragraphs {
        let _ = writeln!(h, "<p>{}</p>", e(p));
    }
    let _ = writeln!(
        h,
        "<p class=\"caveat\">{}</p>\n</section>",
        e(&r.statement.caveat)
    );
}

fn evidence(h: &mut String, r: &EvidenceReport) {
    h.push_str("<section>\n<h2>4. The evidence</h2>\n");
    if !r.segments.is_empty() {
        h.push_str("<h3>The content by origin</h3>\n");
        match r.subject.text.as_deref() {
            Some(text) => {
                h.push_str("<pre class=\"content\">");
                for s in &r.segments {
                    let Ok(part) = s.range.slice(text) else { continue };
                    let who = s.attributed_to.as_deref().map(|w| format!(" · {w}")).unwrap_or_default();
                    let _ = write!(
                        h,
                        "<mark class=\"{}\" title=\"bytes {}–{}: {}{} · {}\">{}</mark>",
                        origin_class(s.origin),
                        s.range.start(),
                        s.range.end(),
                        e(s.origin.label()),
                        e(&who),
                        e(&s.basis),
                        e(part)
                    );
                }
                h.push_str("</pre>\n<div class=\"legend\"><i class=\"sw-ai\"></i>AI-generated<i class=\"sw-source\"></i>copied from a source<i class=\"sw-unattributed\"></i>not attributed</div>\n");
            }
            None => h.push_str("<p class=\"small\">The report does not include the content's text; the segments are listed by byte range.</p>\n"),
        }
        h.push_str("<table>\n<thead><tr><th>Bytes</th><th>Origin</th><th>Attributed to</th><th>Measured</th><th>Basis</th></tr></thead>\n<tbody>\n");
        for s in &r.segments {
            let _ = writeln!(
                h,
                "<tr><td class=\"mono\">{}–{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}{}</td></tr>",
                s.range.start(),
                s.range.end(),
                e(s.origin.label()),
                e(s.attributed_to.as_deref().unwrap_or("")),
                e(&s.measured.as_ref().map_or_else(|| "—".into(), measured)),
                e(&s.basis),
                fact_refs(&s.facts)
            );
        }
        h.push_str("</tbody>\n</table>\n");
    }
    h.push_str("<h3>Facts</h3>\n<table>\n<thead><tr><th>#</th><th>Finding</th><th>Statistics</th><th>Method</th><th>Established</th></tr></thead>\n<tbody>\n");
    for (i, f) in r.facts.iter().enumerate() {
        let (kind, text, stats) = describe(f);
        let _ = writeln!(
            h,
            "<tr id=\"fact-{i}\"><td class=\"mono\">#{i}</td><td><b>{}</b><br>{}</td><td>{}</td><td class=\"mono\">{} {}</td><td class=\"mono\">{}</td></tr>",
            e(kind),
            e(&text),
            e(&stats),
            e(&f.method.name),
            e(&f.method.version),
            e(&f.established_at.to_string())
        );
    }
    h.push_str("</tbody>\n</table>\n</section>\n");
}

fn origin_class(o: Origin) -> &'static str {
    match o {
        Origin::Ai => "ai",
        Origin::Source => "source",
        Origin::Unattributed => "unattributed",
    }
}

/// A segment's measurement as measured: the test's p-value with the false-positive rate
/// its decision guarantees and the tokens scored, or the exact match's length.
pub fn measured(m: &Measurement) -> String {
    match m {
        Measurement::Watermark {
            p_value: p,
            false_positive_rate,
            tokens_scored,
            ..
        } => format!(
            "p = {} (false-positive rate {false_positive_rate:e} at the threshold used; {tokens_scored} tokens scored)",
            p_value(p)
        ),
        Measurement::VerbatimMatch {
            tokens,
            occurrences,
        } => format!(
            "exact match of {tokens} tokens, {occurrences} occurrence{} in the index",
            if *occurrences == 1 { "" } else { "s" }
        ),
    }
}

fn methods(h: &mut String, r: &EvidenceReport) {
    h.push_str("<section>\n<h2>5. Methods and reproduction</h2>\n<h3>Methods</h3>\n<table>\n<thead><tr><th>Method</th><th>Version</th><th>Parameters</th><th>Facts</th></tr></thead>\n<tbody>\n");
    let mut seen: Vec<(String, String, String, Vec<usize>)> = Vec::new();
    for (i, f) in r.facts.iter().enumerate() {
        let params = if f.method.parameters.is_null() {
            String::new()
        } else {
            f.method.parameters.to_string()
        };
        match seen
            .iter_mut()
            .find(|(n, v, p, _)| *n == f.method.name && *v == f.method.version && *p == params)
        {
            Some(entry) => entry.3.push(i),
            None => seen.push((
                f.method.name.clone(),
                f.method.version.clone(),
                params,
                vec![i],
            )),
        }
    }
    for (name, version, params, facts) in &seen {
        let _ = writeln!(
            h,
            "<tr><td class=\"mono\">{}</td><td class=\"mono\">{}</td><td class=\"mono\">{}</td><td>{}</td></tr>",
            e(name),
            e(version),
            e(params),
            fact_refs(facts)
        );
    }
    h.push_str("</tbody>\n</table>\n<h3>Inputs</h3>\n");
    if r.inputs.is_empty() {
        h.push_str("<p class=\"small\">No inputs recorded.</p>\n");
    } else {
        h.push_str("<table>\n<thead><tr><th>Role</th><th>Name</th><th>SHA-256</th></tr></thead>\n<tbody>\n");
        for input in &r.inputs {
            let _ = writeln!(
                h,
                "<tr><td>{}</td><td>{}</td><td class=\"mono\">{}</td></tr>",
                e(&input.role),
                e(&input.name),
                e(&input.sha256)
            );
        }
        h.push_str("</tbody>\n</table>\n");
    }
    h.push_str("<h3>Statements the rules relied on</h3>\n<dl class=\"meta\">\n");
    let c = &r.context;
    let mut rows: Vec<(String, String)> = vec![("Law applied as of".into(), c.as_of.to_string())];
    if let Some(k) = c.kind {
        rows.push(("Kind of content".into(), k.name().into()));
    }
    if let Some(t) = c.tokens {
        rows.push(("Length in tokens".into(), t.to_string()));
    }
    if let Some(a) = c.ai_generated {
        rows.push((
            "Stated AI-generated".into(),
            if a { "yes" } else { "no" }.into(),
        ));
    }
    if let Some(d) = c.placed_on_market {
        rows.push(("Placed on the EU market".into(), d.to_string()));
    }
    if let Some(ed) = &c.editorial {
        rows.push((
            "Editorial responsibility".into(),
            format!(
                "{} ({}; {}), human review: {}",
                ed.holder,
                ed.role,
                ed.contact,
                if ed.human_review { "yes" } else { "no" }
            ),
        ));
    }
    if let Some(a) = &c.actor {
        rows.push((
            "Requested by".into(),
            format!("{} ({})", a.name, a.role.name()),
        ));
    }
    for (k, v) in &c.declarations {
        rows.push((k.clone(), if *v { "yes" } else { "no" }.into()));
    }
    for (k, v) in rows {
        let _ = writeln!(h, "<dt>{}</dt><dd>{}</dd>", e(&k), e(&v));
    }
    h.push_str("</dl>\n<h3>Reproduce</h3>\n");
    let _ = writeln!(h, "<pre class=\"cmd\">{}</pre>", e(&r.command));
    let commit = r
        .tool
        .commit
        .as_deref()
        .map(|c| format!(" (commit {c})"))
        .unwrap_or_default();
    let _ = writeln!(
        h,
        "<p class=\"small\">With {} {}{}, the same inputs (by the hashes above) and the same \
         date of application, the command writes the same facts and outcomes.</p>",
        e(&r.tool.name),
        e(&r.tool.version),
        e(&commit)
    );
    h.push_str("<h3>Limitations</h3>\n<ul class=\"limits\">\n");
    for l in &r.limitations {
        let _ = writeln!(h, "<li>{}</li>", e(l));
    }
    h.push_str("</ul>\n</section>\n");
}

fn integrity(h: &mut String, r: &EvidenceReport) {
    h.push_str("<section>\n<h2>6. Integrity</h2>\n");
    match &r.seal {
        None => h.push_str(
            "<p>This report is not sealed: nothing binds it to its author or time.</p>\n",
        ),
        Some(seal) => {
            let _ = writeln!(
                h,
                "<dl class=\"meta\">\n<dt>Report hash</dt><dd><code>{} {}</code> of the {} canonical JSON without <code>seal</code></dd>",
                e(&seal.algorithm),
                e(&seal.report_hash),
                e(&seal.canonicalization)
            );
            match &seal.signature {
                Some(sig) => {
                    let _ = writeln!(
                        h,
                        "<dt>Signature</dt><dd>{} by key <code>{}</code></dd>",
                        e(&sig.algorithm),
                        e(&sig.key_id)
                    );
                }
                None => h.push_str("<dt>Signature</dt><dd>none</dd>\n"),
            }
            match &seal.receipt {
                Some(receipt) => {
                    let _ = writeln!(
                        h,
                        "<dt>Log receipt</dt><dd><pre class=\"mono\">{}</pre></dd>",
                        e(receipt)
                    );
                    if let Some(key) = &seal.log_key {
                        let _ = writeln!(h, "<dt>Log key</dt><dd><code>{}</code></dd>", e(key));
                    }
                }
                None => h.push_str("<dt>Log receipt</dt><dd>none</dd>\n"),
            }
            h.push_str(&offline_check(seal));
        }
    }
    h.push_str("</section>\n");
}

/// How to check the report offline: the command with the keys it must be checked
/// against. The keys printed in a report prove nothing by themselves (a forger prints
/// their own), so the reader is told to get them from the service and the log.
fn offline_check(seal: &crate::ReportSeal) -> String {
    let mut command = String::from("tracemark report verify --key SERVICE.pub");
    if seal.receipt.is_some() {
        command.push_str(" --log-key LOG.pub");
    }
    command.push_str(" REPORT.json");
    let mut keys = Vec::new();
    if let Some(key) = seal
        .signature
        .as_ref()
        .and_then(|s| s.public_key.as_deref())
    {
        keys.push(format!(
            "<code>SERVICE.pub</code> the service key <code>{}</code>",
            e(key.trim())
        ));
    }
    if let Some(key) = &seal.log_key {
        keys.push(format!(
            "<code>LOG.pub</code> the log key <code>{}</code>",
            e(key.trim())
        ));
    }
    let mut h = format!("</dl>\n<p class=\"small\">Check it offline with <code>{command}</code>");
    if !keys.is_empty() {
        let _ = write!(
            h,
            ", where {}, each as published by its owner: a key is to be trusted only from its \
             owner, never from the report it verifies (the command says <code>untrusted</code> \
             for any other key)",
            keys.join(" and ")
        );
    }
    h.push_str(".</p>\n");
    h
}

/// A fact for a reader: its kind, what it says, and its statistics.
pub fn describe(f: &Fact) -> (&'static str, String, String) {
    match &f.claim {
        Claim::Content {
            hash,
            bytes,
            media_type,
        } => (
            "Content",
            format!("{bytes} bytes of {media_type}, SHA-256 {}", hash.to_hex()),
            String::new(),
        ),
        Claim::Watermark(w) => {
            let payload = w
                .payload
                .map(|p| format!("; payload {p}"))
                .unwrap_or_default();
            let segments = if w.segments.is_empty() {
                String::new()
            } else {
                format!("; {} marked passage(s)", w.segments.len())
            };
            let kind = match w.medium {
                Some(m) if m != tracemark_core::fact::Medium::Text => match m {
                    tracemark_core::fact::Medium::Image => "Image watermark",
                    tracemark_core::fact::Medium::Audio => "Audio watermark",
                    _ => "Video watermark",
                },
                _ => "Watermark",
            };
            // A media mark's evidence beyond the verdict: how the content was aligned,
            // and what its pilots and payload read (the method's parameters).
            let evidence = if w
                .medium
                .is_some_and(|m| m != tracemark_core::fact::Medium::Text)
            {
                let p = &f.method.parameters;
                let mut parts = Vec::new();
                if let Some(a) = p.get("pilot_agreement").and_then(|v| v.as_f64()) {
                    parts.push(format!("pilot agreement {:.1}%", a * 100.0));
                }
                if let Some(n) = p.get("alignments_tried").and_then(|v| v.as_u64()) {
                    parts.push(format!("{n} alignment(s) tried"));
                }
                if let Some(c) = p.get("payload_checked").and_then(|v| v.as_bool()) {
                    parts.push(format!(
                        "payload check {}",
                        if c { "passed" } else { "not passed" }
                    ));
                }
                if let Some(m) = p.get("matching_bits").and_then(|v| v.as_u64()) {
                    parts.push(format!(
                        "{m} of 48 bits match Stable Diffusion's message (no key)"
                    ));
                }
                if parts.is_empty() {
                    String::new()
                } else {
                    format!("; {}", parts.join(", "))
                }
            } else {
                String::new()
            };
            (
                kind,
                format!(
                    "{} with key {}: {}{payload}{segments}{evidence}",
                    w.scheme,
                    w.key_id,
                    if w.verdict.detected {
                        "detected"
                    } else {
                        "not detected"
                    }
                ),
                stats(&w.verdict),
            )
        }
        Claim::Credential(c) => {
            let state = match c.state {
                CredentialState::Trusted => "valid, trusted signer",
                CredentialState::Untrusted => "valid, signer not on the trust list",
                CredentialState::Tampered => "fails verification",
                CredentialState::None => "no credential found",
            };
            let mut parts = vec![state.to_owned()];
            if let Some(s) = &c.signer {
                parts.push(format!("signer {s}"));
            }
            if let Some(g) = &c.generator {
                parts.push(format!("generator {g}"));
            }
            if let Some(t) = &c.digital_source_type {
                parts.push(format!("source type {}", t.rsplit('/').next().unwrap_or(t)));
            }
            if let Some(t) = c.signed_at {
                parts.push(format!("signed {t}"));
            }
            match c.time_stamped_at {
                Some(t) => parts.push(format!("time-stamped {t} by a trusted authority")),
                None if c.signed_at.is_some() => {
                    parts.push("no trusted time-stamp (the signing time is claimed)".into())
                }
                None => {}
            }
            if let Some(id) = &c.manifest_id {
                parts.push(format!("manifest {id}"));
            }
            match &c.aigc {
                Some(a) => parts.push(format!(
                    "AIGC label: Label {}, producer {}, content number {}{}",
                    a.label,
                    a.content_producer,
                    a.produce_id,
                    if a.content_propagator.is_empty() {
                        String::new()
                    } else {
                        format!(
                            ", propagated by {} as {}",
                            a.content_propagator, a.propagate_id
                        )
                    }
                )),
                None if c.aigc_label => parts.push("AIGC label present".into()),
                None => {}
            }
            if let Some(d) = &c.latent_disclosure {
                parts.push(latent_words(d));
            }
            if !c.failures.is_empty() {
                parts.push(format!("failures: {}", c.failures.join("; ")));
            }
            (
                "Content credential",
                parts.join("; "),
                "binary verification (no error rate)".into(),
            )
        }
        Claim::LogEntry(l) => (
            "Log record",
            format!(
                "record {} of {} (tree size {}); {}{}{}",
                l.index,
                l.origin,
                l.tree_size,
                l.provider
                    .as_deref()
                    .map(|p| format!("provider {p}, "))
                    .unwrap_or_default(),
                l.model
                    .as_deref()
                    .map(|m| format!("model {m}, "))
                    .unwrap_or_default(),
                l.generation_id
                    .as_deref()
                    .map(|g| format!("generation {g}"))
                    .unwrap_or_default(),
            ),
            if l.inclusion_verified {
                "inclusion proof verified against a signed checkpoint".into()
            } else {
                "inclusion proof not verified".into()
            },
        ),
        Claim::SourceSpan(s) => (
            "Source span",
            format!(
                "bytes {}–{} occur verbatim in {}",
                s.range.start(),
                s.range.end(),
                s.documents
                    .iter()
                    .map(|d| {
                        let owner = d
                            .owner
                            .as_deref()
                            .map(|o| format!(" by {o}"))
                            .unwrap_or_default();
                        let licence = d
                            .licence
                            .as_deref()
                            .map(|l| format!(", {l}"))
                            .unwrap_or_default();
                        format!("{}{owner}{licence}", d.id)
                    })
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
            format!(
                "{} tokens, {} occurrence(s) in the index",
                s.tokens, s.occurrences
            ),
        ),
        Claim::NearDuplicate(n) => (
            "Near-duplicate",
            format!(
                "{}{}",
                n.document.id,
                n.document
                    .owner
                    .as_deref()
                    .map(|o| format!(" by {o}"))
                    .unwrap_or_default()
            ),
            format!("estimated Jaccard similarity {:.3}", n.jaccard),
        ),
        Claim::Rights(r) => (
            "Rights signal",
            format!(
                "{}: {} is {}{}",
                r.document_id,
                crate::predicates::use_words(r.usage),
                match r.permission {
                    tracemark_core::rights::Permission::Allowed => "allowed",
                    tracemark_core::rights::Permission::Disallowed => "reserved (opt-out)",
                    tracemark_core::rights::Permission::Unknown => "not addressed",
                },
                if r.signals.is_empty() {
                    String::new()
                } else {
                    format!(" by {}", r.signals.join(", "))
                }
            ),
            r.seen_at
                .map(|t| format!("seen {t}"))
                .unwrap_or_else(|| "time seen unknown".into()),
        ),
        Claim::Disclosure(d) => (
            "Visible label",
            match (&d.label, d.present) {
                (Some(l), true) => format!("label \u{201c}{l}\u{201d} found"),
                (None, true) => "a label was found".into(),
                (_, false) => "no label found".into(),
            },
            d.range
                .map(|r| format!("bytes {}–{}", r.start(), r.end()))
                .unwrap_or_default(),
        ),
        Claim::Attribution(a) => (
            "Attribution",
            format!(
                "{}: {}{}",
                a.document_id,
                if a.present {
                    "attributed"
                } else {
                    "not attributed"
                },
                a.text
                    .as_deref()
                    .map(|t| format!(" (\u{201c}{t}\u{201d})"))
                    .unwrap_or_default()
            ),
            String::new(),
        ),
        Claim::Search(s) => (
            "Search",
            format!("{:?} search of {}: {} found", s.topic, s.scope, s.found).to_lowercase(),
            String::new(),
        ),
        Claim::MarkHistory(h) => (
            "Mark history",
            format!(
                "{}: {}{}",
                h.mark.words(),
                h.shown_by,
                if h.still_present {
                    "; still present".to_owned()
                } else {
                    format!(
                        "; no longer present, removed by {}",
                        h.removed_by
                            .as_ref()
                            .map(|p| match &p.name {
                                Some(n) => format!("{n} ({})", p.role.name().replace('_', " ")),
                                None => format!("a {}", p.role.name().replace('_', " ")),
                            })
                            .unwrap_or_else(|| "someone not identified".into())
                    )
                }
            ),
            h.present_at
                .map(|t| format!("present at {t}"))
                .unwrap_or_default(),
        ),
        Claim::Detector(d) => (
            "Detector",
            format!(
                "{} for the {}: {}{}",
                d.name,
                d.mark.words(),
                match d.access {
                    DetectorAccess::Free => "free of charge to anyone",
                    DetectorAccess::Public => "public, not free",
                    DetectorAccess::OnRequest => "on request",
                    DetectorAccess::None => "not offered",
                },
                d.url
                    .as_deref()
                    .map(|u| format!(" ({u})"))
                    .unwrap_or_default()
            ),
            String::new(),
        ),
        Claim::Mining(m) => (
            "Mining",
            format!(
                "{}: {}; lawful access {}; purpose {}",
                m.organisation,
                match m.organisation_type {
                    Some(OrganisationType::ResearchOrganisation) => "research organisation",
                    Some(OrganisationType::CulturalHeritageInstitution) => {
                        "cultural heritage institution"
                    }
                    Some(OrganisationType::Other) => "other organisation",
                    None => "kind of organisation not stated",
                },
                match m.lawful_access {
                    Some(true) => "yes",
                    Some(false) => "no",
                    None => "not stated",
                },
                match m.purpose {
                    Some(MiningPurpose::ScientificResearch) => "scientific research",
                    Some(MiningPurpose::Other) => "other than scientific research",
                    None => "not stated",
                }
            ),
            String::new(),
        ),
        Claim::ModelIdentity(m) => (
            "Model identity",
            crate::report::model_identity_words(m),
            format!("check: {}", m.check.code().replace('_', " ")),
        ),
        Claim::Unestablished { topic, reason } => (
            "Not established",
            format!("{}: {reason}", format!("{topic:?}").to_lowercase()),
            String::new(),
        ),
    }
}

fn latent_words(d: &LatentDisclosureFields) -> String {
    let parts: Vec<String> = [
        d.provider.as_deref().map(|p| format!("provider {p}")),
        match (&d.system_name, &d.system_version) {
            (Some(n), Some(v)) => Some(format!("system {n} {v}")),
            (Some(n), None) => Some(format!("system {n}")),
            _ => None,
        },
        d.time.map(|t| format!("created {t}")),
        d.unique_id.as_deref().map(|u| format!("identifier {u}")),
    ]
    .into_iter()
    .flatten()
    .collect();
    format!("latent disclosure: {}", parts.join(", "))
}

fn stats(v: &tracemark_core::Verdict) -> String {
    let mut out = format!(
        "p = {}; false-positive rate {}; {} tokens scored",
        p_value(&v.p_value),
        v.false_positive_rate,
        v.scored
    );
    if !v.parameters.is_null() {
        let _ = write!(out, "; parameters {}", v.parameters);
    }
    out
}
