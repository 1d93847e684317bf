// Search-as-you-type while a demand is written: post the form's fields (with the page's CSRF
// token) to the preview route and list what the catalog already holds.  Without JavaScript the
// form still files the demand; the match is shown after it is submitted.
(function () {
  "use strict";
  var form = document.getElementById("demand-form"), list = document.getElementById("preview-list");
  if (!form || !list) return;
  var script = document.currentScript, hint = document.getElementById("preview-hint");
  var token = document.querySelector('meta[name="csrf-token"]').content, timer = null, asked = 0;
  function field(name) { var el = form.elements[name]; return el ? el.value : ""; }
  function badge(text, css) { var b = document.createElement("span"); b.className = "badge " + css; b.textContent = text; return b; }
  function show(body, ticket) {
    if (ticket !== asked) return;  // an older answer arriving late
    list.innerHTML = "";
    (body.candidates || []).forEach(function (c) {
      var li = document.createElement("li"), a = document.createElement("a");
      a.href = c.url; a.textContent = c.title; a.target = "_blank";
      li.appendChild(a);
      li.appendChild(document.createTextNode(" · " + c.provider + " · " + Math.round(c.score * 100) + "% "));
      if (c.blocked_by) li.appendChild(badge(c.blocked_by, "err"));
      if (c.found.length) { li.appendChild(document.createElement("br")); li.appendChild(badge(script.dataset.found + "：" + c.found.join("、"), "ok")); }
      if (c.missing.length) { li.appendChild(document.createTextNode(" ")); li.appendChild(badge(script.dataset.missing + "：" + c.missing.join("、"), "warn")); }
      list.appendChild(li);
    });
    hint.textContent = body.candidates && body.candidates.length ? (body.unmet_label || "") : script.dataset.none;
  }
  function ask() {
    var ticket = ++asked;
    fetch(form.dataset.previewUrl, {method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": token, "Accept": "application/json"},
      body: JSON.stringify({title: field("title"), description: field("description"), items: field("items")})})
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(function (body) { show(body, ticket); })
      .catch(function () { /* the form works without the preview */ });
  }
  form.querySelectorAll("[data-preview]").forEach(function (el) {
    el.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(ask, 300); });
  });
  form.addEventListener("submit", function () { clearTimeout(timer); asked++; });  // no preview after the submit
  if (field("title") || field("items")) ask();
})();
