// Live preview of a response template in the admin: as the linguist types, ask the API's preview
// endpoint (the same checks the save runs, and ICU rendering with the key's sample values).
(function () {
  "use strict";
  function ready(fn) {
    if (document.readyState !== "loading") { fn(); } else { document.addEventListener("DOMContentLoaded", fn); }
  }
  function field(id) { var el = document.getElementById(id); return el ? el.value : ""; }
  function selectedText(id) {
    var el = document.getElementById(id);
    return el && el.selectedIndex >= 0 ? el.options[el.selectedIndex].text : "";
  }
  ready(function () {
    var body = document.querySelector("textarea.parley-template-body[data-preview-url]");
    if (!body) { return; }
    var csrf = document.querySelector("input[name=csrfmiddlewaretoken]");
    var panel = document.createElement("div");
    panel.className = "parley-template-live";
    panel.setAttribute("aria-live", "polite");
    body.insertAdjacentElement("afterend", panel);
    var timer = null, sequence = 0;

    function show(result) {
      panel.textContent = "";
      var text = document.createElement("p");
      text.className = "parley-template-rendered";
      text.textContent = result.text === null ? (result.problem || "—") : result.text;
      panel.appendChild(text);
      var list = document.createElement("ul");
      (result.findings || []).forEach(function (f) {
        var item = document.createElement("li");
        item.className = "parley-finding parley-" + f.severity;
        item.dataset.check = f.check;
        item.textContent = f.severity + " " + f.check + ": " + f.message;
        list.appendChild(item);
      });
      panel.appendChild(list);
    }

    function check() {
      var mine = ++sequence;
      var payload = {
        key: body.dataset.key || selectedText("id_key"),
        locale: body.dataset.locale || selectedText("id_locale").split(" ")[0],
        register: body.dataset.register !== undefined ? body.dataset.register : field("id_register"),
        body: body.value
      };
      if (!payload.key || !payload.locale || !payload.body) { return; }
      fetch(body.dataset.previewUrl, {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "Accept": "application/json",
                   "X-CSRFToken": csrf ? csrf.value : "" },
        body: JSON.stringify(payload)
      }).then(function (r) { return r.json(); })
        .then(function (result) { if (mine === sequence && result.findings) { show(result); } })
        .catch(function () { /* the save still checks; a failed preview only stays silent */ });
    }
    function later() { clearTimeout(timer); timer = setTimeout(check, 250); }
    body.addEventListener("input", later);
    check();
  });
})();
