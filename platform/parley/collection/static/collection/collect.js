// Parley collection UI: live validation of the annotation (the same check registry the submit
// uses, through /collect/tasks/<id>/check/), slot tagging by selecting words, the lease clock and
// keyboard shortcuts (Enter submits; Alt+S goes to the skip reason; Enter there skips).
(function () {
  "use strict";
  function ready(fn) {
    if (document.readyState !== "loading") { fn(); } else { document.addEventListener("DOMContentLoaded", fn); }
  }

  function liveCheck(input) {
    var panel = input.parentNode.querySelector(".findings");
    var timer = null, sequence = 0;
    function show(body) {
      panel.textContent = "";
      var status = document.createElement("p");
      status.className = body.ok ? "ok" : "error";
      status.textContent = body.ok ? "✓ valid" : "✗ not valid yet";
      panel.appendChild(status);
      if (body.text !== null && body.text !== undefined) {
        // The plain text with its slots marked, in the locale's direction.
        var preview = document.createElement("p");
        preview.className = "preview";
        preview.lang = input.lang; preview.dir = input.dir;
        var rest = input.value, shown = body.text;
        preview.appendChild(document.createTextNode(""));
        var parts = rest.split(/(\[[^\[\]]*\])/);
        parts.forEach(function (part) {
          var m = /^\[\s*([^\s:\]]+)\s*:\s*(.*?)\s*\]$/.exec(part);
          if (m) {
            var mark = document.createElement("mark");
            mark.textContent = m[2] + " ";
            var small = document.createElement("small");
            small.textContent = m[1];
            mark.appendChild(small);
            preview.appendChild(mark);
          } else if (part) {
            preview.appendChild(document.createTextNode(part));
          }
        });
        preview.dataset.text = shown;
        panel.appendChild(preview);
      }
      var list = document.createElement("ul");
      body.findings.forEach(function (f) {
        var item = document.createElement("li");
        item.className = f.severity;
        item.dataset.check = f.check;
        item.textContent = f.severity + ": " + f.message + (f.position !== null ? " (position " + f.position + ")" : "");
        list.appendChild(item);
      });
      panel.appendChild(list);
    }
    function check() {
      var mine = ++sequence;
      var url = new URL(input.dataset.checkUrl, window.location.href);
      url.searchParams.set("annotated", input.value);
      fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (r) { return r.json(); })
        .then(function (body) { if (mine === sequence && body.findings) { show(body); } })
        .catch(function () { /* the submit still checks everything; a failed live check stays silent */ });
    }
    input.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(check, 200); });
    if (input.value) { check(); }
    return check;
  }

  function slotButtons(input, recheck) {
    document.querySelectorAll("button.tag-slot").forEach(function (button) {
      // mousedown keeps the input's selection, which a click would clear first
      button.addEventListener("mousedown", function (e) { e.preventDefault(); });
      button.addEventListener("click", function () {
        var start = input.selectionStart, end = input.selectionEnd;
        if (start === null || start === end) { input.focus(); return; }
        var value = input.value, picked = value.slice(start, end).trim();
        if (!picked) { return; }
        var wrapped = "[" + button.dataset.slot + " : " + picked + "]";
        if (input.dataset.spacedSlots) {
          // Written without spaces: MASSIVE's published form sets each slot off by one space,
          // which is notation, not text (its loader needs every "[" to begin a chunk).
          if (start > 0 && !/\s/.test(value.charAt(start - 1))) { wrapped = " " + wrapped; }
          if (end < value.length && !/\s/.test(value.charAt(end))) { wrapped = wrapped + " "; }
        }
        input.value = value.slice(0, start) + wrapped + value.slice(end);
        input.focus();
        input.setSelectionRange(start + wrapped.length, start + wrapped.length);
        recheck();
      });
    });
  }

  function leaseClock() {
    var el = document.querySelector("[data-lease-seconds]");
    if (!el) { return; }
    var left = parseInt(el.dataset.leaseSeconds, 10);
    function tick() {
      var m = Math.floor(left / 60), s = left % 60;
      el.textContent = left > 0 ? m + ":" + (s < 10 ? "0" : "") + s + " left" : "expired: the task went back to the pool";
      if (left > 0) { left -= 1; setTimeout(tick, 1000); }
    }
    tick();
  }

  ready(function () {
    var input = document.querySelector("input.annotated[data-check-url]");
    if (input) { slotButtons(input, liveCheck(input)); }
    leaseClock();
    document.addEventListener("keydown", function (e) {
      if (e.altKey && (e.key === "s" || e.key === "S" || e.code === "KeyS")) {
        var reason = document.getElementById("skip-reason");
        if (reason) { e.preventDefault(); reason.focus(); }
      }
    });
    // Judging by keyboard: in a score scale, a digit picks the value and moves to the next scale; in
    // the language question ("check all that apply"), t, e and o toggle target, english and other.
    // Enter submits.
    var judge = document.querySelector("form.judge");
    if (judge) {
      judge.addEventListener("keydown", function (e) {
        var set = e.target.closest && e.target.closest("fieldset.scale");
        if (e.key === "Enter" && (e.target.type === "radio" || e.target.type === "checkbox")) {
          e.preventDefault(); judge.requestSubmit(); return;
        }
        if (!set || e.altKey || e.ctrlKey || e.metaKey) { return; }
        if (set.dataset.input === "checkbox") {
          var box = { t: "target", e: "english", o: "other" }[e.key];
          var input = box && set.querySelector("input[type=checkbox][value='" + box + "']");
          if (!input) { return; }
          e.preventDefault();
          input.checked = !input.checked;
          input.focus();
          return;
        }
        var radio = /^[0-9]$/.test(e.key) && set.querySelector("input[type=radio][value='" + e.key + "']");
        if (!radio) { return; }
        e.preventDefault();
        radio.checked = true;
        var sets = Array.prototype.slice.call(judge.querySelectorAll("fieldset.scale"));
        var next = sets[sets.indexOf(set) + 1];
        var target = next ? next.querySelector("input") : document.getElementById("proposed");
        if (target) { target.focus(); }
      });
    }
    var first = document.querySelector("form.judge input[type=radio]");
    if (first && !document.querySelector("form.judge input:checked")) { first.focus(); }
  });
})();
