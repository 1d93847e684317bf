// Data-element suggestions while an item name is typed.  The endpoint named by data-suggest-url
// answers GET ?name=<text> with {items: [{name, suggestions: [{element_id, name, score, reason}]}]},
// read with the signed-in session; where it fails, the form simply works without suggestions.
(function () {
  "use strict";
  var timer = null;
  document.querySelectorAll("input.item-name[data-suggest-url]").forEach(function (input) {
    var list = document.getElementById(input.getAttribute("list"));
    var row = input.closest("tr"), element = row && row.querySelector("input.item-element");
    var found = {};
    input.addEventListener("input", function () {
      clearTimeout(timer);
      var text = input.value.trim();
      if (found[text] && element && !element.value) element.value = found[text];
      if (text.length < 2) return;
      timer = setTimeout(function () {
        fetch(input.dataset.suggestUrl + "?name=" + encodeURIComponent(text), {credentials: "same-origin"})
          .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
          .then(function (body) {
            var items = (body.items && body.items[0] && body.items[0].suggestions) || [];
            list.innerHTML = "";
            items.slice(0, 10).forEach(function (el) {
              var option = document.createElement("option");
              option.value = el.name; option.label = el.reason || el.name; found[el.name] = el.element_id;
              list.appendChild(option);
            });
          })
          .catch(function () { /* no suggestions: the form works without them */ });
      }, 250);
    });
  });
})();
