// Tracemark's web page: send a text or a file to POST /v1/attribute and show the
// evidence report, verdict first.
//
// Security: the report echoes the user's content (subject.text, file names), so every
// piece of report data reaches the page through textContent or createElement, never
// innerHTML. The page runs under `Content-Security-Policy: default-src 'self'`: no
// inline scripts, no inline handlers, no eval; styles are set through the CSSOM only.

"use strict";

(function () {
  /** The largest content the service accepts, in bytes (4 MiB). */
  const MAX_BYTES = 4 * 1024 * 1024;

  /** Outcome codes in the order a reader needs them: problems first. */
  const OUTCOME_ORDER = [
    "non_compliant",
    "undetermined",
    "not_yet_applicable",
    "exempt",
    "compliant",
    "not_applicable",
  ];

  const OUTCOME_LABELS = {
    non_compliant: "Not complied with",
    undetermined: "Could not be determined",
    not_yet_applicable: "Not yet applicable",
    exempt: "Exempt",
    compliant: "Complied with",
    not_applicable: "Not applicable",
  };

  const ORIGIN_LABELS = {
    ai: "AI-generated",
    source: "Copied from a source",
    unattributed: "Not attributed",
  };

  const USE_LABELS = {
    tdm: "Text and data mining",
    "ai-train": "AI training",
    "genai-train": "Generative AI training",
    "ai-input": "Use as AI input",
    "ai-index": "AI retrieval indexing",
    search: "Search indexing",
  };

  const PERMISSION_LABELS = {
    allowed: "allowed by the rights holder",
    disallowed: "reserved by the rights holder (opted out)",
    unknown: "no signal found",
  };

  // ---------------------------------------------------------------------------
  // Page state

  const els = {};
  /** The file to check instead of the text, if the user chose or dropped one. */
  let chosenFile = null;
  /** Whether a request is in flight (the button is disabled meanwhile). */
  let running = false;

  /** An error to show the user as it is: a message and, if any, what to do about it. */
  class UserError extends Error {
    constructor(message, hint, code) {
      super(message);
      this.hint = hint || null;
      this.code = code || null;
    }
  }

  document.addEventListener("DOMContentLoaded", init);

  function init() {
    for (const id of [
      "check-form", "text", "file", "file-chosen", "file-chosen-text", "file-clear",
      "dropzone", "check", "progress", "error", "result", "report",
    ]) {
      els[id] = document.getElementById(id);
    }

    els["check-form"].addEventListener("submit", onSubmit);
    els.file.addEventListener("change", () => {
      chooseFile(els.file.files && els.file.files.length ? els.file.files[0] : null);
    });
    els["file-clear"].addEventListener("click", () => {
      chooseFile(null);
      els.text.focus();
    });
    // Typing means the user wants the text checked, not the file chosen earlier.
    els.text.addEventListener("input", () => {
      if (chosenFile) chooseFile(null);
    });
    // Ctrl+Enter (or Cmd+Enter) checks from the keyboard; Enter alone is a new line.
    els.text.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        els.check.click();
      }
    });
    setUpDropzone();

    // Anything unexpected is shown as a message instead of failing silently.
    window.addEventListener("error", (event) => {
      showError(new UserError(
        "Something went wrong in this page: " + (event.message || "unknown error") + ".",
        "Reload the page and try again."));
    });
    window.addEventListener("unhandledrejection", (event) => {
      const reason = event.reason && event.reason.message ? event.reason.message : String(event.reason);
      showError(new UserError("Something went wrong in this page: " + reason + ".",
        "Reload the page and try again."));
    });
  }

  function setUpDropzone() {
    const zone = els.dropzone;
    let depth = 0; // dragenter/dragleave fire for every child: count them.
    const hasFiles = (event) =>
      event.dataTransfer && Array.from(event.dataTransfer.types || []).includes("Files");

    zone.addEventListener("dragenter", (event) => {
      if (!hasFiles(event)) return;
      event.preventDefault();
      depth += 1;
      zone.classList.add("dragging");
    });
    zone.addEventListener("dragover", (event) => {
      if (!hasFiles(event)) return; // dragged text drops into the textarea as usual
      event.preventDefault();
      event.dataTransfer.dropEffect = "copy";
    });
    zone.addEventListener("dragleave", (event) => {
      if (!hasFiles(event)) return;
      depth = Math.max(0, depth - 1);
      if (depth === 0) zone.classList.remove("dragging");
    });
    zone.addEventListener("drop", (event) => {
      if (!hasFiles(event)) return;
      event.preventDefault();
      depth = 0;
      zone.classList.remove("dragging");
      const files = event.dataTransfer.files;
      if (files && files.length) {
        chooseFile(files[0]);
        els.file.value = ""; // the dropped file replaces any file chosen before
      }
    });
  }

  /** Makes `file` (or nothing) the content to check, and says so on the page. */
  function chooseFile(file) {
    const hadFile = chosenFile !== null;
    chosenFile = file;
    if (!file) {
      if (hadFile) hideError(); // an error about the removed file no longer applies
      els.file.value = "";
      els["file-chosen"].hidden = true;
      els["file-chosen-text"].textContent = "";
      return;
    }
    els["file-chosen-text"].textContent =
      "File to check: " + file.name + " (" + formatBytes(file.size) + ")";
    els["file-chosen"].hidden = false;
    if (file.size > MAX_BYTES) showError(tooLargeError(file.size, "The file " + file.name));
    else hideError();
  }

  // ---------------------------------------------------------------------------
  // Checking

  async function onSubmit(event) {
    event.preventDefault();
    if (running) return;
    hideError();
    // Running from the start: reading a large file takes a moment too.
    setRunning(true);
    try {
      // Refuses (throws) before sending when there is nothing to check or too much.
      const body = await requestBody();
      const data = await postAttribute(body);
      renderReport(data.report, typeof data.html === "string" ? data.html : null);
      finish("done");
    } catch (error) {
      showError(error);
      finish("error");
    } finally {
      setRunning(false);
    }
  }

  /** The JSON body for /v1/attribute, from the chosen file or the text. */
  async function requestBody() {
    if (chosenFile) {
      if (chosenFile.size > MAX_BYTES) throw tooLargeError(chosenFile.size, "The file " + chosenFile.name);
      if (chosenFile.size === 0) {
        throw new UserError("The file " + chosenFile.name + " is empty.",
          "Choose a file with some content, or remove it and paste a text.");
      }
      const content = await readAsBase64(chosenFile);
      return { content_base64: content, name: chosenFile.name };
    }
    const text = els.text.value;
    if (text.trim() === "") {
      throw new UserError("There is nothing to check yet.",
        "Paste a text into the box, or choose or drop a file, then press Check.");
    }
    const bytes = new TextEncoder().encode(text).length;
    if (bytes > MAX_BYTES) throw tooLargeError(bytes);
    return { text: text };
  }

  function tooLargeError(size, what) {
    return new UserError(
      (what || "This content") + " is too large to check: " + size.toLocaleString("en") +
        " bytes, and the limit is 4 MiB (" + MAX_BYTES.toLocaleString("en") + " bytes).",
      "Check a shorter extract, or split the content into parts of at most 4 MiB.");
  }

  /** Reads a file's bytes as base64 (the data URL FileReader makes, without its prefix). */
  function readAsBase64(file) {
    return new Promise((resolve, reject) => {
      const reader = new FileReader();
      reader.onload = () => {
        const url = String(reader.result);
        resolve(url.slice(url.indexOf(",") + 1));
      };
      reader.onerror = () => {
        reject(new UserError("The file " + file.name + " could not be read.",
          "Check that the file still exists and that you may read it, then choose it again."));
      };
      reader.readAsDataURL(file);
    });
  }

  /** POSTs to the service; resolves to {report, html} or rejects with a UserError. */
  async function postAttribute(body) {
    const unreachable = new UserError("Could not reach the Tracemark service.",
      "Check your network connection and try again. If it keeps failing, the service may be down.");
    let response;
    let raw;
    try {
      response = await fetch("v1/attribute", {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify(body),
      });
      raw = await response.text();
    } catch (_) {
      throw unreachable;
    }

    let data = null;
    try {
      data = raw ? JSON.parse(raw) : null;
    } catch (_) {
      data = null;
    }

    if (!response.ok) {
      const error = data && data.error;
      const hint = statusHint(response);
      if (error && typeof error.message === "string" && error.message) {
        // The API writes messages in lower case, to be embedded; here one is a sentence.
        const message = error.message.charAt(0).toUpperCase() + error.message.slice(1);
        throw new UserError(message, error.hint || hint, error.code);
      }
      throw new UserError("The service could not check the content (HTTP " + response.status + ").", hint);
    }
    if (!data || typeof data.report !== "object" || data.report === null) {
      throw new UserError("The service's answer could not be read.",
        "Try again; if it keeps happening, tell the service's operator.");
    }
    return data;
  }

  /** What to do about an HTTP error, for answers that carry no hint of their own. */
  function statusHint(response) {
    switch (response.status) {
      case 408:
      case 504:
        return "The check took longer than the service allows: try a shorter extract, or try again later.";
      case 413:
        return "The content is larger than the service accepts: check a shorter extract.";
      case 429: {
        const wait = Number(response.headers.get("Retry-After"));
        return wait > 0 ? "Try again in " + wait + (wait === 1 ? " second." : " seconds.") : "Try again in a moment.";
      }
      default:
        return response.status >= 500 ? "Try again in a moment." : null;
    }
  }

  function setRunning(on) {
    running = on;
    els.check.disabled = on;
    els.check.textContent = on ? "Checking…" : "Check";
    els.progress.hidden = !on;
    els.result.setAttribute("aria-busy", on ? "true" : "false");
    if (on) els.result.dataset.state = "checking";
  }

  /** Records the end of a check: `data-run` counts finished checks (tests wait on it). */
  function finish(state) {
    els.result.dataset.state = state;
    els.result.dataset.run = String(Number(els.result.dataset.run || "0") + 1);
  }

  function showError(error) {
    const box = els.error;
    box.replaceChildren();
    const message = error instanceof UserError
      ? error.message
      : "Something went wrong: " + (error && error.message ? error.message : String(error));
    box.append(h("p", { className: "error-message" }, message));
    if (error instanceof UserError && error.hint) {
      box.append(h("p", { className: "error-hint" }, error.hint));
    }
    if (error instanceof UserError && error.code) {
      box.append(h("p", { className: "error-code" }, "Error code: ", h("code", {}, error.code)));
    }
    box.hidden = false;
    // A stale report under a new error would read as the answer to this check.
    els.report.hidden = true;
    els.report.replaceChildren();
  }

  function hideError() {
    els.error.hidden = true;
    els.error.replaceChildren();
  }

  // ---------------------------------------------------------------------------
  // The report

  function renderReport(report, html) {
    const verdict = report.verdict || {};
    const facts = Array.isArray(report.facts) ? report.facts : [];
    const article = els.report;
    article.replaceChildren(
      verdictSection(report, verdict, facts),
      downloadsSection(report, html),
      evidenceSection(report, facts),
    );
    article.hidden = false;
  }

  function verdictSection(report, verdict, facts) {
    const ai = verdict.ai || null;
    const section = h("section", { className: "verdict " + (ai ? "is-ai" : "is-not-ai") });
    const subject = report.subject || {};
    const checked = [subject.name, subject.bytes != null ? formatBytes(subject.bytes) : null,
      subject.media_type].filter(Boolean).join(" · ");
    if (checked) section.append(h("p", { className: "kicker" }, "Checked: " + checked));

    section.append(h("h2", { id: "headline", className: "headline" }, headline(ai)));

    const summary = h("ul", { id: "summary", className: "summary" });
    for (const sentence of asArray(verdict.summary)) summary.append(h("li", {}, String(sentence)));
    section.append(summary);

    section.append(
      sharesBlock(verdict),
      credentialBlock(facts),
      sourcesBlock(verdict, facts),
      findingsBlock(report.rules),
    );
    return section;
  }

  function headline(ai) {
    if (!ai) return "No AI origin was found";
    if (ai.provider && ai.model) return "AI-generated by " + ai.provider + " (" + ai.model + ")";
    if (ai.provider || ai.model) return "AI-generated by " + (ai.provider || ai.model);
    return "AI-generated (the system is not named)";
  }

  function sharesBlock(verdict) {
    const rows = [
      ["ai", "AI-generated", verdict.ai_share],
      ["source", "From sources", verdict.source_share],
      ["unattributed", "Not attributed", verdict.unattributed_share],
    ];
    const list = h("ul", { id: "shares", className: "shares", "aria-label": "Shares of the content" });
    for (const [origin, label, share] of rows) {
      const valid = typeof share === "number" && isFinite(share);
      const fill = h("span", { className: "share-fill fill-" + origin });
      const width = valid ? Math.min(100, Math.max(0, share * 100)) : 0;
      fill.style.width = width + "%";
      if (width > 0) fill.classList.add("nonzero");
      list.append(h("li", { className: "share" },
        h("span", { className: "share-label" }, label),
        h("span", { className: "share-bar", "aria-hidden": "true" }, fill),
        h("span", { className: "share-value" }, valid ? percent(share) : "—"),
      ));
    }
    return block("Shares of the content", list,
      "Measured in bytes. “Not attributed” is what no method traced to an AI system or a source; no tool can prove human authorship.");
  }

  function credentialBlock(facts) {
    const creds = facts.filter((f) => f && f.kind === "credential");
    const unestablished = facts.filter((f) => f && f.kind === "unestablished" && f.topic === "credential");
    const body = h("div", { id: "credential", className: "credential" });
    if (!creds.length && !unestablished.length) {
      body.append(h("p", {}, "No content credential was looked for."));
    }
    for (const c of creds) {
      const state = String(c.state || "unknown");
      body.append(h("p", {},
        h("span", { className: "badge cred-" + state.replace(/[^a-z_]/g, "") }, credentialStateLabel(state)),
        " ", credentialSentence(c)));
      if (c.aigc_label) body.append(h("p", { className: "muted" }, "It carries China's AIGC implicit label."));
    }
    for (const u of unestablished) {
      body.append(h("p", {}, "The credential could not be checked: " + String(u.reason || "no reason given") + "."));
    }
    return block("Content credential", body);
  }

  function credentialStateLabel(state) {
    return { trusted: "Trusted", untrusted: "Untrusted signer", tampered: "Tampered", none: "None" }[state] || state;
  }

  function credentialSentence(c) {
    const by = c.signer ? " by " + c.signer : "";
    const at = c.signed_at ? " on " + c.signed_at : "";
    const gen = c.generator ? " It names the generator " + c.generator + "." : "";
    switch (c.state) {
      case "trusted":
        return "A valid content credential, signed" + by + at + " with a certificate on the trust list." + gen;
      case "untrusted":
        return "A valid content credential, signed" + by + at + ", but the signer is not on the trust list." + gen;
      case "tampered": {
        const failures = asArray(c.failures).map(String);
        return "A content credential is present but fails verification" +
          (failures.length ? ": " + failures.join("; ") : "") + "." + gen;
      }
      case "none":
        return "No content credential was found. Credentials are easily stripped, so this proves nothing by itself.";
      default:
        return "Credential state: " + String(c.state) + ".";
    }
  }

  function sourcesBlock(verdict, facts) {
    const sources = asArray(verdict.sources);
    const body = h("div", { id: "sources", className: "sources" });
    if (!sources.length) {
      body.append(h("p", {}, "No source document was found in the content."));
      return block("Sources", body);
    }
    const list = h("ul", { className: "source-list" });
    for (const s of sources) {
      const item = h("li", { className: "source" });
      item.append(h("p", { className: "source-owner" },
        s.owner ? String(s.owner) : "Owner not known",
        h("span", { className: "source-share" }, typeof s.share === "number" ? percent(s.share) + " of the content" : "")));
      const doc = h("p", { className: "source-doc" }, "Document ", h("code", {}, String(s.document_id || "")));
      const url = safeUrl(s.url);
      if (url) {
        doc.append(" · ", h("a", { href: url, rel: "noopener noreferrer nofollow", target: "_blank" }, url));
      }
      item.append(doc);
      item.append(h("p", { className: "source-licence" }, "Licence: " + (s.licence ? String(s.licence) : "not stated")));
      for (const r of facts.filter((f) => f && f.kind === "rights" && f.document_id === s.document_id)) {
        item.append(h("p", { className: "source-rights" + (r.permission === "disallowed" ? " reserved" : "") },
          rightsSentence(r, false)));
      }
      list.append(item);
    }
    body.append(list);
    return block("Sources", body);
  }

  /** "Generative AI training: reserved by the rights holder (opted out), signalled by tdmrep, seen 2025-09-15." */
  function rightsSentence(r, withDocument) {
    const signals = asArray(r.signals).map(String);
    return (withDocument ? String(r.document_id) + ": " : "") +
      (USE_LABELS[r.use] || String(r.use)) + ": " +
      (PERMISSION_LABELS[r.permission] || String(r.permission)) +
      (signals.length ? ", signalled by " + signals.join(", ") : "") +
      (r.seen_at ? ", seen " + String(r.seen_at).slice(0, 10) : "") + ".";
  }

  function findingsBlock(rules) {
    const body = h("div", { id: "findings", className: "findings" });
    const groups = new Map();
    for (const rule of asArray(rules)) {
      const outcome = String(rule && rule.outcome);
      if (!groups.has(outcome)) groups.set(outcome, []);
      groups.get(outcome).push(rule);
    }
    if (!groups.size) {
      body.append(h("p", {}, "No rule was evaluated."));
      return block("Legal findings", body);
    }
    const order = OUTCOME_ORDER.concat(Array.from(groups.keys()).filter((o) => !OUTCOME_ORDER.includes(o)));
    for (const outcome of order) {
      const group = groups.get(outcome);
      if (!group) continue;
      const details = h("details", { className: "outcome-group", "data-outcome": outcome });
      // The lesser outcomes stay folded: a reader looks for problems first.
      details.open = outcome !== "not_applicable" && outcome !== "compliant";
      details.append(h("summary", {},
        h("span", { className: "badge o-" + outcome.replace(/[^a-z_]/g, "") }, OUTCOME_LABELS[outcome] || outcome),
        " " + group.length + (group.length === 1 ? " rule" : " rules")));
      const list = h("ul", { className: "rules" });
      for (const rule of group) list.append(ruleItem(rule));
      details.append(list);
      body.append(details);
    }
    return block("Legal findings", body);
  }

  function ruleItem(rule) {
    const meta = [rule.jurisdiction, rule.citation,
      asArray(rule.binds).length ? "binds the " + asArray(rule.binds).join(" and the ") : null,
      rule.applies_from ? "applies from " + rule.applies_from : null].filter(Boolean).join(" · ");
    return h("li", { className: "rule" },
      h("p", { className: "rule-head" },
        h("span", { className: "rule-id" }, String(rule.id || "")), " ",
        h("span", { className: "rule-title" }, String(rule.title || ""))),
      meta ? h("p", { className: "rule-meta" }, meta) : null,
      h("p", { className: "rule-reason" }, String(rule.reason || "")));
  }

  // ---------------------------------------------------------------------------
  // Downloads

  function downloadsSection(report, html) {
    const stem = "report-" + hashStem(report);
    const json = h("button", { id: "download-json", type: "button", className: "secondary" }, "Download report (JSON)");
    json.addEventListener("click", () => {
      download(JSON.stringify(report, null, 2) + "\n", "application/json", stem + ".json");
    });
    const page = h("button", { id: "download-html", type: "button", className: "secondary" }, "Download report (HTML)");
    if (html === null) {
      page.disabled = true;
      page.title = "The service sent no HTML rendering of this report.";
    } else {
      page.addEventListener("click", () => download(html, "text/html;charset=utf-8", stem + ".html"));
    }
    return h("section", { className: "downloads", "aria-label": "Downloads" }, json, page,
      h("p", { className: "muted" }, "The JSON report is sealed: its hash, signature and log receipt let anyone check it was not altered."));
  }

  /** The first 12 hex digits of the report hash (else of the content hash). */
  function hashStem(report) {
    const seal = report.seal || {};
    const subject = report.subject || {};
    const hex = String(seal.report_hash || String(subject.hash || "").replace(/^sha256:/, ""))
      .toLowerCase().replace(/[^0-9a-f]/g, "");
    return hex ? hex.slice(0, 12) : "unsealed";
  }

  function download(content, type, name) {
    const url = URL.createObjectURL(new Blob([content], { type: type }));
    const link = h("a", { href: url, download: name, hidden: true });
    document.body.append(link);
    link.click();
    link.remove();
    // Revoking at once can cancel the download in some browsers.
    setTimeout(() => URL.revokeObjectURL(url), 60000);
  }

  // ---------------------------------------------------------------------------
  // The evidence

  function evidenceSection(report, facts) {
    const details = h("details", { id: "evidence", className: "evidence" },
      h("summary", {}, "Evidence: the content by origin, the facts, the seal"));
    const parts = [
      contentBlock(report.subject || {}, asArray(report.segments)),
      factsBlock(facts),
      sealBlock(report.seal),
      statementBlock(report.statement),
      limitationsBlock(report),
    ];
    details.append(...parts.filter(Boolean));
    return details;
  }

  function contentBlock(subject, segments) {
    const body = h("div", { id: "content-view" });
    const meta = h("dl", { className: "meta" });
    addMeta(meta, "Name", subject.name);
    addMeta(meta, "Hash", subject.hash, true);
    addMeta(meta, "Size", subject.bytes != null ? formatBytes(subject.bytes) : null);
    addMeta(meta, "Type", subject.media_type);
    body.append(meta);

    if (typeof subject.text !== "string") {
      body.append(h("p", { className: "muted" }, "The report does not include the content as text, so its passages cannot be highlighted."));
    } else {
      body.append(legend());
      const bytes = new TextEncoder().encode(subject.text);
      if (typeof subject.bytes === "number" && subject.bytes !== bytes.length) {
        body.append(h("p", { className: "warning" },
          "The text shown is " + bytes.length + " bytes long but the content examined was " +
          subject.bytes + " bytes: the highlighting may be off."));
      }
      body.append(highlightedText(bytes, segments));
    }
    if (segments.length) body.append(segmentTable(segments));
    return block("The content by origin", body);
  }

  function legend() {
    const p = h("p", { className: "legend", "aria-hidden": "true" });
    for (const origin of ["ai", "source", "unattributed"]) {
      p.append(h("span", { className: "swatch seg-" + origin }), ORIGIN_LABELS[origin], " ");
    }
    return p;
  }

  /**
   * The text with each segment marked by origin. Segments are byte ranges of the
   * UTF-8 text, so the text is sliced as bytes and each slice decoded on its own; a
   * boundary inside a multi-byte character moves to the next character.
   */
  function highlightedText(bytes, segments) {
    const decoder = new TextDecoder("utf-8");
    const n = bytes.length;
    const snap = (i) => {
      let j = Math.min(Math.max(0, Math.floor(Number(i) || 0)), n);
      while (j < n && (bytes[j] & 0xc0) === 0x80) j += 1;
      return j;
    };
    const ranges = segments
      .filter((s) => s && s.range)
      .map((s) => ({ start: snap(s.range.start), end: snap(s.range.end), segment: s }))
      .sort((a, b) => a.start - b.start);

    const pre = h("pre", { className: "content", tabindex: "0", "aria-label": "The content, highlighted by origin" });
    const plain = (from, to) => pre.append(decoder.decode(bytes.subarray(from, to)));
    let at = 0;
    for (const r of ranges) {
      const start = Math.max(r.start, at);
      if (r.end <= start) continue;
      if (start > at) plain(at, start);
      const origin = String(r.segment.origin);
      const label = ORIGIN_LABELS[origin] || origin;
      // data-label is announced through CSS generated content (see style.css), so that
      // copying the text copies the content alone.
      const mark = h("mark", {
        className: "seg seg-" + origin.replace(/[^a-z_]/g, ""),
        title: segmentTitle(r.segment),
        "data-label": label,
      }, decoder.decode(bytes.subarray(start, r.end)));
      pre.append(mark);
      at = r.end;
    }
    if (at < n) plain(at, n);
    return pre;
  }

  function segmentTitle(segment) {
    const label = ORIGIN_LABELS[segment.origin] || String(segment.origin);
    const to = segment.attributed_to ? " — " + segment.attributed_to : "";
    return label + to + (segment.basis ? " (" + segment.basis + ")" : "");
  }

  function segmentTable(segments) {
    const table = h("table", { className: "segments" },
      h("caption", {}, "Segments (byte ranges of the content)"),
      h("thead", {}, h("tr", {},
        h("th", { scope: "col" }, "Bytes"),
        h("th", { scope: "col" }, "Origin"),
        h("th", { scope: "col" }, "Attributed to"),
        h("th", { scope: "col" }, "Shown by"))));
    const tbody = h("tbody");
    for (const s of segments) {
      const range = s.range ? s.range.start + "–" + s.range.end : "";
      const measured = s.measured ? " (" + formatMeasured(s.measured) + ")" : "";
      tbody.append(h("tr", {},
        h("td", { className: "mono" }, range),
        h("td", {}, h("span", { className: "swatch seg-" + String(s.origin).replace(/[^a-z_]/g, "") }),
          ORIGIN_LABELS[s.origin] || String(s.origin)),
        h("td", {}, String(s.attributed_to || (s.document_id || "—"))),
        h("td", {}, String(s.basis || "") + measured)));
    }
    table.append(tbody);
    return h("div", { className: "table-wrap" }, table);
  }

  function factsBlock(facts) {
    const list = h("ol", { id: "facts", className: "facts", start: "0" });
    facts.forEach((fact, index) => {
      const method = fact.method || {};
      const item = h("li", {},
        h("details", {},
          h("summary", {}, h("span", { className: "fact-kind" }, "#" + index + " " + String(fact.kind)), " ", factSentence(fact)),
          h("p", { className: "muted" },
            "Method " + String(method.name || "?") + " " + String(method.version || "") +
            (fact.established_at ? ", established " + fact.established_at : "")),
          h("pre", { className: "json" }, JSON.stringify(fact, null, 2))));
      list.append(item);
    });
    if (!facts.length) return block("Facts", h("p", {}, "The report records no facts."));
    return block("Facts", list, "The rules cite facts by their number.");
  }

  /** One line saying what a fact established, by its kind. */
  function factSentence(f) {
    switch (f.kind) {
      case "content":
        return formatBytes(f.bytes) + " of " + String(f.media_type) + ", " + String(f.hash) + ".";
      case "credential":
        return credentialSentence(f);
      case "watermark": {
        const v = f.verdict || {};
        const p = typeof v.log10_p_value === "number" ? " (p = " + pValue(v.log10_p_value, v.p_value) + ")" : "";
        // A media mark (image, audio) reads units of its carrier, not tokens.
        const media = f.medium && f.medium !== "text";
        const unit = media ? " units read" : " tokens scored";
        const tokens = typeof v.scored === "number" ? ", " + v.scored + unit : "";
        const what = media ? (f.medium === "image" ? "Image watermark" : "Audio watermark") : "Watermark";
        return (v.detected ? what + " detected" : "No " + what.toLowerCase() + " detected") + p + tokens +
          ": " + String(f.scheme) + ", key " + String(f.key_id) +
          (f.payload && f.payload.hex ? ", payload " + f.payload.hex : "") + ".";
      }
      case "log_entry":
        return "Transparency-log record " + String(f.index) + " in " + String(f.origin) +
          (f.provider ? ", provider " + f.provider : "") + (f.model ? ", model " + f.model : "") +
          (f.generation_id ? ", generation " + f.generation_id : "") +
          (f.inclusion_verified ? "; inclusion proof verified." : "; inclusion proof NOT verified.");
      case "source_span": {
        const docs = asArray(f.documents).map((d) => String(d.id) + (d.owner ? " (" + d.owner + ")" : ""));
        const range = f.range ? "Bytes " + f.range.start + "–" + f.range.end : "A span";
        return range + " occur verbatim in " + (docs.join(", ") || "an indexed document") +
          " (" + String(f.tokens) + " tokens, " + String(f.occurrences) + " occurrence" + (f.occurrences === 1 ? "" : "s") + ").";
      }
      case "near_duplicate":
        return "Near-duplicate of " + String(f.document && f.document.id) +
          (typeof f.jaccard === "number" ? " (Jaccard " + f.jaccard.toFixed(2) + ")" : "") + ".";
      case "rights":
        return rightsSentence(f, true);
      case "disclosure":
        return f.present ? "A perceptible AI label was found" + (f.label ? ": “" + f.label + "”" : "") + "."
          : "No perceptible AI label was found.";
      case "attribution":
        return String(f.document_id) + ": the content " + (f.present ? "keeps" : "does not keep") +
          " the source's attribution" + (f.text ? " (“" + f.text + "”)" : "") + ".";
      case "search":
        return "Searched for " + String(f.topic) + " in " + String(f.scope) + ": " + String(f.found) + " found.";
      case "unestablished":
        return "Not established (" + String(f.topic) + "): " + String(f.reason) + ".";
      default:
        return "";
    }
  }

  function sealBlock(seal) {
    const body = h("div", { id: "seal" });
    if (!seal) {
      body.append(h("p", {}, "This report is not sealed: it carries no hash, signature or log receipt."));
      return block("Seal", body);
    }
    const meta = h("dl", { className: "meta" });
    addMeta(meta, "Report hash", seal.report_hash, true);
    addMeta(meta, "Hashed as", [seal.algorithm, seal.canonicalization && "over " + seal.canonicalization + " canonical JSON"].filter(Boolean).join(" ") || null);
    const sig = seal.signature;
    addMeta(meta, "Signature", sig ? String(sig.algorithm || "") + ", key " + String(sig.key_id || "?") : "not signed", !!sig);
    addMeta(meta, "Log receipt", seal.receipt ? "present (a transparency log recorded the report hash)" : "absent");
    if (seal.receipt && seal.log_key) addMeta(meta, "Log key", seal.log_key, true);
    body.append(meta);
    return block("Seal", body);
  }

  function statementBlock(statement) {
    if (!statement || !asArray(statement.paragraphs).length) return null;
    const body = h("div", { className: "statement" });
    for (const p of asArray(statement.paragraphs)) body.append(h("p", {}, String(p)));
    if (statement.caveat) body.append(h("p", { className: "muted" }, String(statement.caveat)));
    return block("Attribution statement (for a copyright registration)", body);
  }

  function limitationsBlock(report) {
    const body = h("div");
    const limits = asArray(report.limitations);
    if (limits.length) {
      const list = h("ul");
      for (const l of limits) list.append(h("li", {}, String(l)));
      body.append(list);
    }
    const meta = h("dl", { className: "meta" });
    addMeta(meta, "Reproduce with", report.command, true);
    addMeta(meta, "Tool", report.tool ? String(report.tool.name) + " " + String(report.tool.version) : null);
    addMeta(meta, "Generated", report.generated_at);
    addMeta(meta, "Report format", report.format, true);
    body.append(meta);
    return block("Limits and reproduction", body);
  }

  // ---------------------------------------------------------------------------
  // Small helpers

  /**
   * Creates an element. Properties go through the DOM (className, hidden, …) or
   * setAttribute; children are nodes or strings (added as text, never parsed as HTML).
   */
  function h(tag, props, ...children) {
    const el = document.createElement(tag);
    for (const [key, value] of Object.entries(props || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "className") el.className = value;
      else if (key === "hidden") el.hidden = Boolean(value);
      else el.setAttribute(key, String(value));
    }
    for (const child of children) {
      if (child === null || child === undefined || child === "") continue;
      el.append(child instanceof Node ? child : String(child));
    }
    return el;
  }

  /** A titled part of the report. */
  function block(title, content, note) {
    return h("section", { className: "block" },
      h("h3", {}, title),
      content,
      note ? h("p", { className: "note" }, note) : null);
  }

  function addMeta(dl, term, value, mono) {
    if (value === null || value === undefined || value === "") return;
    dl.append(h("dt", {}, term), h("dd", mono ? { className: "mono" } : {}, String(value)));
  }

  function asArray(value) {
    return Array.isArray(value) ? value : [];
  }

  /** Only web links are made clickable: a report could carry a `javascript:` URL. */
  function safeUrl(url) {
    if (typeof url !== "string") return null;
    try {
      const parsed = new URL(url);
      return parsed.protocol === "https:" || parsed.protocol === "http:" ? parsed.href : null;
    } catch (_) {
      return null;
    }
  }

  /** A share as the report writes it: `85.3%`, `100%`. */
  function percent(share) {
    const v = Math.round(share * 1000) / 10;
    return (Number.isInteger(v) ? v.toFixed(0) : v.toFixed(1)) + "%";
  }

  /** A p-value as the report writes it: `0.0312`, or `4.1e-9` from its logarithm. */
  function pValue(log10, p) {
    if (log10 >= -3) return (typeof p === "number" ? p : Math.pow(10, log10)).toFixed(4);
    let e = Math.floor(log10);
    let m = Math.pow(10, log10 - e);
    if (Math.round(m * 10) >= 100) {
      m /= 10;
      e += 1;
    }
    return m.toFixed(1) + "e" + e;
  }

  // What was measured, as measured: a watermark test's p-value with the false-positive
  // rate its threshold guarantees and the tokens scored, or an exact match's length.
  function formatMeasured(m) {
    if (m.test === "watermark") {
      return "p = " + pValue(m.log10_p_value, m.p_value) + ", false-positive rate " +
        String(m.false_positive_rate) + " at the threshold used, " + m.tokens_scored + " tokens scored";
    }
    if (m.test === "verbatim_match") {
      return "exact match of " + m.tokens + " tokens, " + m.occurrences +
        (m.occurrences === 1 ? " occurrence" : " occurrences") + " in the index";
    }
    return "";
  }

  function formatBytes(n) {
    if (typeof n !== "number" || !isFinite(n)) return String(n);
    if (n < 1024) return n + (n === 1 ? " byte" : " bytes");
    if (n < 1024 * 1024) return (n / 1024).toFixed(1) + " KiB";
    return (n / (1024 * 1024)).toFixed(1) + " MiB";
  }
})();
